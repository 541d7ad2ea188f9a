/**
 * `make profile`: one `gatehouse serve` child under `node --cpu-prof` while the load generator drives it (warm
 * Authorize, cold Authorize, Envoy Check, HTTP /v1/authz, a few seconds each); the V8 CPU profile lands in
 * bench/profiles/ (gitignored) when the child exits. Open it in Chrome DevTools (Performance → Load profile) or
 * https://www.speedscope.app for a flame graph. PROFILE_SECONDS sets each phase's length (4); PROFILE_PHASES picks
 * phases by a case-insensitive substring of their names, comma-separated (e.g. PROFILE_PHASES=http for one door).
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startBenchIssuer } from './lib/bench-issuer.js';
import { GRPC_ACTION, HTTP_PATH, startGatehouseChild } from './load/gatehouse-child.js';
import type { CallSpec, TokenSpec } from './load/job.js';
import { LoadPool } from './load/pool.js';
import { distinctTokens } from './suite/context.js';

const PHASE_MS = Number(process.env.PROFILE_SECONDS ?? 4) * 1000;
const dir = fileURLToPath(new URL('./profiles/', import.meta.url));
mkdirSync(dir, { recursive: true });
const before = new Set(readdirSync(dir));

const issuer = await startBenchIssuer();
const server = await startGatehouseChild({ issuer: issuer.issuer, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
const pool = new LoadPool();
try {
  const warm: TokenSpec = { kind: 'same', token: await issuer.mint('profile') };
  const cold: TokenSpec = { kind: 'pool', tokens: await distinctTokens(issuer, 'RS256', 6000) };
  const phases: [string, CallSpec][] = [
    ['Authorize warm', { door: 'authorize', address: server.grpcAddress, action: GRPC_ACTION, tokens: warm, expect: 'allow' }],
    ['Authorize cold RS256', { door: 'authorize', address: server.grpcAddress, action: GRPC_ACTION, tokens: cold, expect: 'allow' }],
    ['Envoy Check warm', { door: 'envoy', address: server.grpcAddress, path: HTTP_PATH, tokens: warm, expect: 'allow' }],
    ['HTTP /v1/authz warm', { door: 'http', address: server.httpAddress, uri: HTTP_PATH, tokens: warm, expect: 'allow' }],
  ];
  const wanted = (process.env.PROFILE_PHASES ?? '').toLowerCase().split(',').filter(Boolean);
  const picked = phases.filter(([name]) => wanted.length === 0 || wanted.some((w) => name.toLowerCase().includes(w)));
  if (picked.length === 0)
    throw new Error(`PROFILE_PHASES=${process.env.PROFILE_PHASES} matches none of: ${phases.map(([n]) => n).join(', ')}`);
  for (const [name, call] of picked) {
    const run = await pool.run(
      { calls: [call], mode: 'closed', concurrency: 64, channels: 4, warmupMs: 300, durationMs: PHASE_MS },
      server,
    );
    console.log(
      `${name}: ${run.figures.calls_per_second} calls/s, server CPU ${run.figures.server_cpu_us_per_call} µs/call, ${run.figures.errors} errors`,
    );
  }
} finally {
  await pool.close();
  await server.stop();
  issuer.close();
}
const written = readdirSync(dir).filter((f) => !before.has(f) && f.endsWith('.cpuprofile'));
if (written.length === 0) throw new Error('no profile was written (did the server exit normally?)');
for (const f of written) console.log(`wrote bench/profiles/${f} (${Math.round(statSync(`${dir}${f}`).size / 1024)} KB)`);
