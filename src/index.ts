/** `gatehouse`: run the service from code (tests, embedding). Services that call gatehouse import `gatehouse/client`. */
export { startGatehouse, type Gatehouse, type GatehouseDeps } from './app.js';
export { ConfigError, loadConfigFile, parseConfigText, validateConfig } from './config/load.js';
export type { Config } from './config/schema.js';
export type { Principal } from './contract/principal.js';
export { AuthzReasons, TokenReasons, type AuthzReason, type TokenReason } from './contract/reasons.js';
export { createLogger, type Logger } from './telemetry/logger.js';
