/**
 * The transport limit: grpc-js serving gatehouse's AuthService and Envoy's Authorization with canned answers
 * (copies of real gatehouse answers, captured by the bench and passed in the file named by argv[2]), re-encoded
 * every call as any grpc-js handler does. Prints `PORT <n>`.
 */
import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { AUTH_SERVICE_NAME, ENVOY_AUTHORIZATION_SERVICE, loadEnvoyAuthProto, loadGatehouseProto } from '../../../src/contract/proto.js';

interface Canned {
  readonly authorize: unknown;
  readonly authorizeBatch: unknown;
  readonly verify: unknown;
  readonly check: unknown;
}

const canned = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Canned;
type Unary = (call: unknown, callback: (err: null, response: unknown) => void) => void;
const answer =
  (response: unknown): Unary =>
  (_call, callback) =>
    callback(null, response);

const server = new Server();
server.addService(loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition, {
  Authorize: answer(canned.authorize),
  AuthorizeBatch: answer(canned.authorizeBatch),
  Verify: answer(canned.verify),
});
server.addService(loadEnvoyAuthProto()[ENVOY_AUTHORIZATION_SERVICE] as ServiceDefinition, { Check: answer(canned.check) });
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  console.log(`PORT ${port}`);
});
process.on('SIGTERM', () => process.exit(0));
