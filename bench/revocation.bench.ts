/**
 * What revocation costs the hot path: Authorize through the in-process engine with a warm decision cache (the same
 * token again and again, as a busy caller sends it), with no revocation list and with a 100,000-entry list (the
 * token matches none, so every entry kind is looked up), in one run. Also the match alone, and the load of the
 * 100,000-entry file (YAML block list and JSON array). Run: make bench-parts. Writes bench/results/revocation.json.
 */
import { validateConfig } from '../src/config/load.js';
import { parseRevocationText } from '../src/config/revocation-file.js';
import { createAuthorizer } from '../src/decisions/create-authorizer.js';
import { compileRevocations, RevocationList } from '../src/policy/revocation-list.js';
import { startBenchIssuer } from './lib/bench-issuer.js';
import { rate, writeResults } from './lib/measure.js';

const ACTION = '/orders.v1.Orders/GetOrder';
const ENTRIES = 100_000;

const benchIssuer = await startBenchIssuer();
const issuer = benchIssuer.issuer;
const token = await benchIssuer.mint('bench', {
  roles: ['Orders.Read'],
  oid: 'oid-bench',
  azp: 'app-bench',
  jti: 'jti-bench',
  uti: 'uti-bench',
});

const config = validateConfig({
  issuers: [{ id: 'bench', type: 'oidc', issuer, audiences: ['api://orders'] }],
  rules: [{ id: 'read', actions: ['/orders.v1.Orders/Get*'], any_roles: ['Orders.Read'] }],
});

// Every kind of entry, none of them the bench token's; some share its values but differ in another field.
const entries: Record<string, string>[] = [];
const kinds = ['sub', 'oid', 'jti', 'uti', 'client_id'] as const;
for (let i = 0; i < ENTRIES; i++) {
  const kind = kinds[i % kinds.length]!;
  entries.push(i < 5 ? { [kind]: `${kind}-bench`.replace('sub-bench', 'bench'), issuer: 'elsewhere' } : { [kind]: `${kind}-${i}` });
}
const yamlText = entries
  .map(
    (e) =>
      `- ${Object.entries(e)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n  ')}`,
  )
  .join('\n');
const jsonText = JSON.stringify(entries);

function timeLoad(text: string): number {
  const start = performance.now();
  compileRevocations(parseRevocationText(text, 'bench'));
  return Math.round(performance.now() - start);
}
const loadMs = { yaml: timeLoad(yamlText), json: timeLoad(jsonText) };
const list = compileRevocations(parseRevocationText(jsonText, 'bench'));

async function authorizeRate(revocations: RevocationList) {
  const authorizer = createAuthorizer(config, {}, undefined, { list: revocations });
  await authorizer.verification.keyCache.start();
  const first = await authorizer.authorize(token, ACTION);
  if (!first.allowed) throw new Error(`bench token not allowed: ${first.reason}`);
  const result = await rate(() => authorizer.authorize(token, ACTION), 3000);
  authorizer.verification.keyCache.stop();
  return result;
}

// Alternate the two, twice, and keep the better of each (the machine's noise, not the list, dominates).
const runs = { none: [] as number[], list: [] as number[] };
for (let r = 0; r < 2; r++) {
  runs.none.push((await authorizeRate(RevocationList.empty)).microsPerOp);
  runs.list.push((await authorizeRate(list)).microsPerOp);
}
const principal = (await createAuthorizer(config).verify(token)) as { valid: true; principal: Parameters<RevocationList['match']>[0] };
const matchRate = await rate(() => list.match(principal.principal), 1000);
benchIssuer.close();

const results = {
  entries: ENTRIES,
  authorize_warm_cache_us: { no_list: Math.min(...runs.none), list_100k: Math.min(...runs.list) },
  match_only_us: matchRate.microsPerOp,
  load_100k_ms: loadMs,
};
console.log(JSON.stringify(results, null, 2));
console.log(`wrote ${writeResults('revocation', results)}`);
process.exit(0);
