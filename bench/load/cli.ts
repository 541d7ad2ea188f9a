/**
 * The load generator against any address, for a setup the bench does not start itself (a gatehouse with
 * server.workers, a remote replica):
 *   node --import tsx bench/load/cli.ts --door authorize --address 127.0.0.1:50051 --token "$TOKEN" \
 *     [--mode closed|open] [--concurrency 64] [--rate 5000] [--seconds 5] [--channels 4] [--pid PID] [--expect allow|deny]
 * --door: authorize, verify, envoy (Check for GET /orders/42) or http (/v1/authz, address = the HTTP listener).
 * --pid: the server's process id, to read its CPU per call (its child processes included). Prints the figures as JSON.
 */
import { parseArgs } from 'node:util';
import { GRPC_ACTION, HTTP_PATH } from './gatehouse-child.js';
import type { CallSpec, Expect } from './job.js';
import { LoadPool } from './pool.js';
import { attach } from './server-process.js';

const { values } = parseArgs({
  options: {
    door: { type: 'string', default: 'authorize' },
    address: { type: 'string' },
    token: { type: 'string', default: process.env.GATEHOUSE_TOKEN },
    action: { type: 'string', default: GRPC_ACTION },
    path: { type: 'string', default: HTTP_PATH },
    mode: { type: 'string', default: 'closed' },
    concurrency: { type: 'string', default: '64' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '5' },
    channels: { type: 'string', default: '4' },
    pid: { type: 'string' },
    expect: { type: 'string', default: 'allow' },
  },
});
if (!values.address || !values.token) {
  console.error('usage: bench/load/cli.ts --door authorize|verify|envoy|http --address HOST:PORT --token TOKEN [options]');
  process.exit(2);
}
const tokens = { kind: 'same' as const, token: values.token };
const expect = values.expect as Expect;
const address = values.address;
const calls: Record<string, CallSpec> = {
  authorize: { door: 'authorize', address, action: values.action!, tokens, expect },
  verify: { door: 'verify', address, tokens, expect },
  envoy: { door: 'envoy', address, path: values.path!, tokens, expect },
  http: { door: 'http', address, uri: values.path!, tokens, expect },
};
const call = calls[values.door!];
if (!call) throw new Error(`--door must be one of ${Object.keys(calls).join(', ')}`);
const pool = new LoadPool();
const run = await pool.run(
  {
    calls: [call],
    mode: values.mode === 'open' ? 'open' : 'closed',
    concurrency: Number(values.concurrency),
    ratePerSecond: Number(values.rate),
    channels: Number(values.channels),
    warmupMs: 500,
    durationMs: Number(values.seconds) * 1000,
  },
  values.pid ? attach(Number(values.pid)) : undefined,
);
await pool.close();
console.log(JSON.stringify(run.figures, null, 2));
