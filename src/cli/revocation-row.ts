/** `gatehouse explain`'s revocation line: whether an entry of `revocations.file` revokes the token, and which. */
import { loadRevocationFile } from '../config/revocation-file.js';
import type { Config } from '../config/schema.js';
import type { Principal } from '../contract/principal.js';
import { compileRevocations, type RevocationMatch } from '../policy/revocation-list.js';
import type { Row } from './render.js';

export function revocationRow(config: Config, principal: Principal | undefined): { row: Row; match: RevocationMatch | undefined } {
  const file = config.revocations.file;
  if (!file) return { row: ['revocation', 'no list (revocations.file is not set)'], match: undefined };
  // check-config has loaded this file already: a file that fails now changed in between, and throws.
  const list = compileRevocations(loadRevocationFile(file).entries);
  if (!principal) return { row: ['revocation', `not checked (no verified token; ${list.size} entries in ${file})`], match: undefined };
  const match = list.match(principal);
  if (!match) return { row: ['revocation', `none matched (${list.size} entries in ${file})`], match };
  const scope = [
    match.issuer !== undefined ? `issuer ${match.issuer}` : '',
    match.issuedBefore ? `issued_before ${match.issuedBefore}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const text = `MATCHED entry [${match.index}] of ${file}: on ${match.fields.join(' + ')}${scope ? ` (${scope})` : ''}`;
  return { row: ['revocation', text], match };
}
