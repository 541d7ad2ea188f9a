#!/usr/bin/env bash
# Supply chain, run by `make check` (and `make audit`):
#   1. the lockfile pins every dependency: package-lock.json (lockfileVersion 3), every package in it with a
#      resolved version and an integrity hash, and the lockfile agreeing with package.json (`npm ci` refuses
#      otherwise, and `make install` installs with `npm ci`);
#   2. `npm audit --omit=dev` (what ships: the runtime dependencies) reports no high or critical advisory.
# Fails on a lockfile that pins nothing or on a high/critical advisory. When the audit service cannot be reached
# (no network, or a registry mirror without the audit endpoint), it says so on one line and does not fail: the
# check did not run, and that is printed, never taken as a pass.
set -euo pipefail
cd "$(dirname "$0")/.."

node - <<'EOF'
const lock = JSON.parse(require('node:fs').readFileSync('package-lock.json', 'utf8'));
const pkg = JSON.parse(require('node:fs').readFileSync('package.json', 'utf8'));
const problems = [];
if (lock.lockfileVersion < 3) problems.push(`lockfileVersion ${lock.lockfileVersion}: regenerate with npm 9 or later`);
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (path === '' || entry.link) continue;
  if (!entry.version || !entry.integrity) problems.push(`${path}: no pinned version and integrity hash`);
}
const root = lock.packages?.[''] ?? {};
for (const field of ['dependencies', 'devDependencies']) {
  for (const [name, range] of Object.entries(pkg[field] ?? {})) {
    if (root[field]?.[name] !== range) problems.push(`${field}.${name}: package.json says ${range}, package-lock.json ${root[field]?.[name]}`);
  }
}
if (problems.length > 0) {
  console.error(`audit: the lockfile does not pin the dependencies:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`audit: package-lock.json pins ${Object.keys(lock.packages).length - 1} packages, each with an integrity hash`);
EOF

# A file, not a variable: a report with many advisories outgrows what an environment variable may hold.
report=$(mktemp)
trap 'rm -f "$report"' EXIT
npm audit --omit=dev --json >"$report" 2>/dev/null || true
node - "$report" <<'EOF'
let report;
try {
  report = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
} catch {
  report = undefined;
}
const counts = report?.metadata?.vulnerabilities;
if (!counts) {
  const why = report?.message ?? report?.error?.summary ?? 'no report';
  console.log(`audit: NOT CHECKED: the npm audit service could not be reached (${why}); not failing`);
  process.exit(0);
}
const serious = Object.values(report.vulnerabilities ?? {}).filter((v) => v.severity === 'high' || v.severity === 'critical');
const summary = ['critical', 'high', 'moderate', 'low', 'info'].map((s) => `${counts[s] ?? 0} ${s}`).join(', ');
if (serious.length > 0) {
  console.error(`audit: npm audit --omit=dev: ${summary}`);
  for (const v of serious) {
    const titles = (v.via ?? []).map((via) => (typeof via === 'string' ? `via ${via}` : `${via.title} ${via.url}`));
    console.error(`  ${v.severity} ${v.name} ${v.range}: ${titles.join('; ')}${v.fixAvailable ? ' (fix available)' : ''}`);
  }
  process.exit(1);
}
console.log(`audit: npm audit --omit=dev: ${summary}; no high or critical advisory`);
EOF
