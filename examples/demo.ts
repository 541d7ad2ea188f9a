/**
 * The scripted story of gatehouse/client (`make demo`): the dev issuer, gatehouse, the orders service
 * (protected by the server interceptor) and the storefront (client credentials through the client
 * interceptor), all in this process on free loopback ports. Then: an allowed call, a call denied for a
 * missing role, an expired token, a call while gatehouse is stopped (refused: fail closed), gatehouse back,
 * and the metrics lines that counted it all.
 *
 *   node --import tsx examples/demo.ts
 */
import { Registry } from 'prom-client';
import { startGatehouse, type Gatehouse } from '../src/app.js';
import { staticToken } from '../src/client/index.js';
import { devConfig } from '../src/dev/dev-config.js';
import { startDevIssuer } from '../src/dev/dev-issuer.js';
import { createLogger } from '../src/telemetry/logger.js';
import { startOrders } from './orders/server.js';
import { createStorefront, describeRefusal, storefrontToken } from './storefront/storefront.js';

const say = (text: string) => console.log(text);
let step = 0;
async function scene(title: string, call: () => Promise<unknown>): Promise<void> {
  step += 1;
  say(`\n${step}. ${title}`);
  try {
    say(`   allowed: ${JSON.stringify(await call())}`);
  } catch (err) {
    say(`   refused: ${describeRefusal(err)}`);
  }
}

/** Non-zero sample lines of the named metric families, histograms reduced to _count. */
function metricLines(exposition: string, families: RegExp): string[] {
  return exposition
    .split('\n')
    .filter((line) => families.test(line) && !line.startsWith('#') && !/_bucket\{|_sum[{ ]/.test(line) && !/ 0$/.test(line));
}

const issuer = await startDevIssuer({ port: 0 });
const logger = createLogger({ level: 'error' }); // the story is the output; gatehouse's own logs stay quiet
const startGate = async (grpc: string): Promise<Gatehouse> => {
  const g = await startGatehouse(devConfig({ issuerUrl: issuer.url, grpc, http: '127.0.0.1:0' }), { logger });
  await g.prefetched;
  return g;
};
let gatehouse = await startGate('127.0.0.1:0');
const gatehouseAddress = `127.0.0.1:${gatehouse.grpcPort}`;
const registry = new Registry(); // orders' own registry: the gatehouse_client_* metrics
const orders = await startOrders({ listen: '127.0.0.1:0', gatehouse: gatehouseAddress, registry });
const ordersAddress = `127.0.0.1:${orders.port}`;
const storefront = createStorefront({ orders: ordersAddress, token: storefrontToken(`${issuer.url}/oauth2/token`, 'storefront-secret') });

say('gatehouse demo');
say(`  dev issuer  ${issuer.url}  (clients: storefront with role Orders.Read)`);
say(`  gatehouse   ${gatehouseAddress}  /metrics on http://127.0.0.1:${gatehouse.httpPort}`);
say(`  orders      ${ordersAddress}  protected by the server interceptor`);
say('  storefront  client credentials (scope api://orders/.default) through the client interceptor');

await scene('storefront reads an order (rule orders-read: Orders.Read)', () => storefront.getOrder('o-1001'));
await scene('storefront deletes an order (rule orders-write wants Orders.Admin)', () => storefront.deleteOrder('o-1001'));

const expired = await issuer.mint({ sub: 'storefront', app: true, roles: ['Orders.Read'], ttlSeconds: -600 });
const withExpired = createStorefront({ orders: ordersAddress, token: staticToken(expired) });
await scene('a client with a token that expired ten minutes ago', () => withExpired.getOrder('o-1002'));
withExpired.close();

// gatehouse's counters die with it: read them before it stops.
const gatehouseMetrics = await (await fetch(`http://127.0.0.1:${gatehouse.httpPort}/metrics`)).text().catch(() => '');

await gatehouse.shutdown();
await scene('gatehouse is stopped; storefront lists orders (a call gatehouse never decided)', () => storefront.listOrders());
await scene("gatehouse is stopped; storefront reads o-1001 again (decided in step 1: orders' local cache serves it for cache_for)", () =>
  storefront.getOrder('o-1001'),
);

gatehouse = await startGate(gatehouseAddress);
// orders reconnects with backoff; until then its checks are refused too (and counted).
let refusedWhileReconnecting = 0;
while (
  !(await storefront.listOrders(1).then(
    () => true,
    () => false,
  ))
) {
  refusedWhileReconnecting += 1;
  await new Promise((r) => setTimeout(r, 100));
}
await scene(
  `gatehouse is back on the same port (orders reconnected after ${refusedWhileReconnecting} more refusal(s)); storefront lists orders`,
  () => storefront.listOrders(1),
);

say('\nmetrics');
say(`  gatehouse /metrics (read before it was stopped):`);
const serverLines = metricLines(gatehouseMetrics, /^(gatehouse_(decisions|denials)_total|grpc_server_handled_total)/);
for (const line of serverLines.length ? serverLines : ['(no gatehouse metrics served)']) say(`    ${line}`);
say('  orders, gatehouse_client_* (its own registry):');
for (const line of metricLines(await registry.metrics(), /^gatehouse_client_/)) say(`    ${line}`);

storefront.close();
await orders.close();
await gatehouse.shutdown();
await issuer.close();
