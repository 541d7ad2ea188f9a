/** Human-readable CLI output: aligned `label  value` lines, and the one way problems are listed. */
import type { WirePrincipal } from '../contract/messages.js';
import type { Principal } from '../contract/principal.js';

/** What the CLI shows of a principal, from the wire (verify, authorize) or the core (explain). */
export type PrincipalView = Pick<
  Principal,
  'subject' | 'issuerId' | 'issuer' | 'clientId' | 'tenantId' | 'appOnly' | 'roles' | 'scopes' | 'groups' | 'groupsOverage' | 'expiresAt'
>;

export type Row = readonly [label: string, value: string];

export function fromWirePrincipal(p: WirePrincipal): PrincipalView {
  return { ...p, expiresAt: p.expiresAt?.seconds ?? 0 };
}

export function fromPrincipal(p: Principal): PrincipalView {
  return p;
}

/** `label   value` rows with the values in one column. */
export function renderRows(rows: readonly Row[], indent = ''): string {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${indent}${label.padEnd(width)}${value}`).join('\n');
}

export function principalRows(p: PrincipalView, nowMs = Date.now()): Row[] {
  const list = (values: readonly string[]) => (values.length ? values.join(' ') : '-');
  const rows: Row[] = [
    ['subject', p.subject],
    ['issuer', `${p.issuerId} (${p.issuer})`],
    ['kind', p.appOnly ? 'application (app-only)' : 'user (delegated)'],
  ];
  if (p.clientId) rows.push(['client', p.clientId]);
  if (p.tenantId) rows.push(['tenant', p.tenantId]);
  rows.push(
    ['roles', list(p.roles)],
    ['scopes', list(p.scopes)],
    ['groups', list(p.groups) + (p.groupsOverage ? ' (incomplete: overage)' : '')],
  );
  if (p.expiresAt) rows.push(['expires', `${new Date(p.expiresAt * 1000).toISOString()} (${relative(p.expiresAt * 1000 - nowMs)})`]);
  return rows;
}

/** `gatehouse: invalid configuration in FILE:` and one `  - problem` line each. */
export function renderProblems(source: string, problems: readonly string[]): string {
  return [`gatehouse: invalid configuration in ${source}:`, ...problems.map((p) => `  - ${p}`)].join('\n');
}

function relative(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const text = minutes >= 120 ? `${Math.round(minutes / 60)}h` : `${minutes}m`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
