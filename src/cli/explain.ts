/**
 * `gatehouse explain`: decides locally, from a config file, and shows every rule on the way: which one
 * decided and why the others did not. The token is verified against the issuers' real keys.
 * Exit 0 allowed, 1 denied, 2 bad config.
 */
import type { VerifyOutcome } from '../decisions/outcome.js';
import type { Decision } from '../policy/decision.js';
import { createAuthorizer } from '../decisions/create-authorizer.js';
import { decideWithoutToken, explain, type ExplainStep } from '../policy/authorize.js';
import { checkConfigFile } from './check-config.js';
import { EXIT_DENIED, EXIT_FAILED, EXIT_OK } from './exit-codes.js';
import { fromPrincipal, principalRows, renderProblems, renderRows, type Row } from './render.js';
import { readTokenArgument } from './token-input.js';
import { revocationRow } from './revocation-row.js';
import { describeRevocation, type RevocationMatch } from '../policy/revocation-list.js';

export interface ExplainCommandOptions {
  readonly config: string;
  readonly token?: string;
  readonly action: string;
  /** `key=value` each: the attributes `when` conditions read. */
  readonly attribute?: readonly string[];
}

export async function explainCommand(options: ExplainCommandOptions): Promise<number> {
  const checked = checkConfigFile(options.config);
  if (!checked.ok) {
    console.error(renderProblems(options.config, checked.problems));
    return EXIT_FAILED;
  }
  const attributes = parseAttributes(options.attribute ?? []);
  if (typeof attributes === 'string') {
    console.error(attributes);
    return EXIT_FAILED;
  }
  const token = options.token ? await readTokenArgument(options.token) : '';
  const authorizer = createAuthorizer(checked.config);
  let verified: VerifyOutcome;
  try {
    // Keys are fetched on demand, for the token's issuer, exactly as the server would on a cold start.
    verified = await authorizer.verify(token);
  } finally {
    authorizer.verification.keyCache.stop();
  }

  const principal = verified.valid ? verified.principal : undefined;
  const revocation = revocationRow(checked.config, principal);
  const steps = explain(authorizer.policy, principal, options.action, { facts: { attributes }, nowMs: Date.now() });
  const header: Row[] = verified.valid
    ? [['token', 'valid'], ...principalRows(fromPrincipal(verified.principal)).map(([k, v]): Row => [`  ${k}`, v])]
    : [['token', `invalid: ${verified.reason}: ${verified.message}`]];
  if (!verified.valid && verified.detail) header.push(['  detail', verified.detail]);
  header.push(revocation.row, ['action', options.action]);
  for (const [key, value] of Object.entries(attributes)) header.push([`attribute ${key}`, value]);
  console.log(renderRows(header));
  if (!verified.valid) console.log('(explaining the rules without a principal)');
  console.log(`\nrules, in order (the first whose pattern matches decides):\n${renderSteps(steps)}\n`);

  const decision = finalDecision(steps, verified, decideWithoutToken(authorizer.policy, options.action), revocation.match);
  console.log(renderRows([['decision', decision.text]]));
  return decision.allowed ? EXIT_OK : EXIT_DENIED;
}

/** `--attribute key=value`, repeated; a flag without `=` is an error message. */
function parseAttributes(flags: readonly string[]): Record<string, string> | string {
  const entries: [string, string][] = [];
  for (const flag of flags) {
    const at = flag.indexOf('=');
    if (at <= 0) return `--attribute expects key=value, got ${JSON.stringify(flag)}`;
    entries.push([flag.slice(0, at), flag.slice(at + 1)]);
  }
  // fromEntries defines own properties: a key such as __proto__ stays a key.
  return Object.fromEntries(entries);
}

function renderSteps(steps: readonly ExplainStep[]): string {
  if (steps.length === 0) return '  (no rules)';
  const rows = steps.flatMap(({ rule, matched, decided, why, condition, details = [] }, i): Row[] => {
    const state = decided ? 'DECIDES' : matched ? 'skipped' : 'no match';
    // Under the deciding rule: its condition, the session age against max_age and the acrs found.
    const notes = [...(condition ? [`condition: ${condition}`] : []), ...details];
    return [[`  ${i + 1}. ${rule}`, `${state.padEnd(9)}${why}`], ...notes.map((note): Row => ['', `${' '.repeat(9)}${note}`])];
  });
  return renderRows(rows);
}

/** What the server answers: a public rule needs no token; otherwise a refused token decides before the rules. */
function finalDecision(
  steps: readonly ExplainStep[],
  verified: VerifyOutcome,
  early: Decision | undefined,
  revoked: RevocationMatch | undefined,
): { allowed: boolean; text: string } {
  if (early?.allowed) return { allowed: true, text: `allowed by public rule ${early.rule}` };
  if (early) return { allowed: false, text: `denied ${early.reason}: ${early.message}` };
  const decided = steps.find((s) => s.decided)?.decided;
  if (!verified.valid) return { allowed: false, text: `denied ${verified.reason} (the token is refused before any rule is evaluated)` };
  if (revoked) return { allowed: false, text: `denied TOKEN_REVOKED: ${describeRevocation(revoked)} (before any rule)` };
  if (!decided) return { allowed: false, text: 'denied NO_MATCHING_RULE (no rule matches the action)' };
  if (decided.allowed) return { allowed: true, text: `allowed by rule ${decided.rule}` };
  return { allowed: false, text: `denied ${decided.reason} by rule ${decided.rule}: ${decided.message}` };
}
