/** `gatehouse verify TOKEN`: asks a running gatehouse who the token speaks for. Exit 0 valid, 1 refused, 2 call failed. */
import { connectAuthClient, describeCallError, type ConnectionOptions } from './auth-client.js';
import { EXIT_DENIED, EXIT_FAILED, EXIT_OK } from './exit-codes.js';
import { fromWirePrincipal, principalRows, renderRows } from './render.js';
import { readTokenArgument } from './token-input.js';

export interface VerifyCommandOptions extends ConnectionOptions {
  readonly json: boolean;
}

export async function verifyCommand(tokenArgument: string, options: VerifyCommandOptions): Promise<number> {
  const token = await readTokenArgument(tokenArgument);
  const client = connectAuthClient(options);
  let response;
  try {
    response = await client.verify(token);
  } catch (err) {
    console.error(`gatehouse verify: ${describeCallError(options.address, err)}`);
    return EXIT_FAILED;
  } finally {
    client.close();
  }
  if (options.json) console.log(JSON.stringify(response, null, 2));
  // An answer without a principal is not a valid token, whatever `valid` says.
  if (response.valid && response.principal) {
    if (!options.json) console.log(renderRows([['result', 'valid'], ...principalRows(fromWirePrincipal(response.principal))]));
    return EXIT_OK;
  }
  if (!options.json) {
    const reason = response.denial?.reason ?? 'REASON_UNSPECIFIED';
    console.log(
      renderRows([
        ['result', 'invalid'],
        ['reason', reason],
        ['message', response.denial?.message ?? ''],
      ]),
    );
  }
  return EXIT_DENIED;
}
