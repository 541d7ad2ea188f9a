/**
 * `gatehouse token`: asks the running dev issuer (`gatehouse dev`) to mint a token and prints only the token,
 * so `TOKEN=$(gatehouse token --sub alice --roles Orders.Read)` works.
 */
import { parseDuration } from '../config/duration.js';
import { EXIT_FAILED, EXIT_OK } from './exit-codes.js';

export interface TokenCommandOptions {
  readonly sub: string;
  readonly roles?: readonly string[];
  readonly scopes?: readonly string[];
  readonly groups?: readonly string[];
  readonly aud: string;
  readonly app: boolean;
  /** A duration (`1h`, `90s`); a leading `-` gives an already-expired token. */
  readonly ttl: string;
  readonly tid?: string;
  readonly issuerUrl: string;
}

const MINT_TIMEOUT_MS = 5000;

export async function tokenCommand(options: TokenCommandOptions): Promise<number> {
  const negative = options.ttl.startsWith('-');
  const ttlMs = parseDuration(negative ? options.ttl.slice(1) : options.ttl);
  if (ttlMs === undefined) {
    console.error(`gatehouse token: --ttl ${options.ttl} is not a duration (use 90s, 15m, 1h; -5m for an expired token)`);
    return EXIT_FAILED;
  }
  const body = {
    sub: options.sub,
    roles: options.roles,
    scopes: options.scopes,
    groups: options.groups,
    aud: options.aud,
    app: options.app,
    ttlSeconds: Math.round(ttlMs / 1000) * (negative ? -1 : 1),
    tid: options.tid,
  };
  const url = `${options.issuerUrl.replace(/\/+$/, '')}/mint`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(MINT_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    console.error(`gatehouse token: cannot reach the dev issuer at ${options.issuerUrl} (${cause}); is \`gatehouse dev\` running?`);
    return EXIT_FAILED;
  }
  const answer = (await response.json().catch(() => ({}))) as { token?: unknown; error_description?: unknown };
  if (!response.ok || typeof answer.token !== 'string') {
    const why = typeof answer.error_description === 'string' ? answer.error_description : `HTTP ${response.status}`;
    console.error(`gatehouse token: the dev issuer refused: ${why}`);
    return EXIT_FAILED;
  }
  console.log(answer.token);
  return EXIT_OK;
}
