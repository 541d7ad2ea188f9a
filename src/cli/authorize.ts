/** `gatehouse authorize`: asks a running gatehouse for one decision. Exit 0 allowed, 1 denied, 2 call failed. */
import { connectAuthClient, describeCallError, type ConnectionOptions } from './auth-client.js';
import { EXIT_DENIED, EXIT_FAILED, EXIT_OK } from './exit-codes.js';
import { renderRows, type Row } from './render.js';
import { readTokenArgument } from './token-input.js';

export interface AuthorizeCommandOptions extends ConnectionOptions {
  readonly token: string;
  readonly action: string;
  readonly json: boolean;
}

export async function authorizeCommand(options: AuthorizeCommandOptions): Promise<number> {
  const token = await readTokenArgument(options.token);
  const client = connectAuthClient(options);
  let response;
  try {
    response = await client.authorize(token, options.action);
  } catch (err) {
    console.error(`gatehouse authorize: ${describeCallError(options.address, err)}`);
    return EXIT_FAILED;
  } finally {
    client.close();
  }
  // Only an explicit `allowed: true` allows; proto3 leaves a missing field false.
  const allowed = response.allowed === true;
  if (options.json) {
    console.log(JSON.stringify(response, null, 2));
    return allowed ? EXIT_OK : EXIT_DENIED;
  }
  const rows: Row[] = [
    ['decision', allowed ? 'allowed' : 'denied'],
    ['action', options.action],
    ['rule', response.rule || '-'],
  ];
  if (!allowed) rows.push(['reason', response.denial?.reason ?? 'REASON_UNSPECIFIED'], ['message', response.denial?.message ?? '']);
  if (response.principal) rows.push(['subject', `${response.principal.subject} (issuer ${response.principal.issuerId})`]);
  console.log(renderRows(rows));
  return allowed ? EXIT_OK : EXIT_DENIED;
}
