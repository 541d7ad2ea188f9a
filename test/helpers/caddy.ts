/**
 * Debian's caddy in front of `upstream`, asking gatehouse (`gatehousePort`, its server.http listener) through the
 * shipped deploy/caddy/Caddyfile, its addresses given as the environment variables the file reads, and bound to
 * loopback: what ships is what is proven. No admin endpoint; its config and data dirs in a temp dir.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, inTempDir, requireProxyBinary, spawnProxy, templated, type RunningProxy } from './proxy-process.js';

export const SHIPPED_CADDYFILE = join(import.meta.dirname, '../../deploy/caddy/Caddyfile');

export async function startCaddy(gatehousePort: number, upstreamPort: number): Promise<RunningProxy> {
  requireProxyBinary('caddy', ['version'], 'caddy');
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-caddy-'));
  const port = await freePort();
  const file = join(dir, 'Caddyfile');
  await writeFile(file, await templated(SHIPPED_CADDYFILE, [['admin off', 'admin off\n\tdefault_bind 127.0.0.1']]));
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    GATEHOUSE: `127.0.0.1:${gatehousePort}`,
    UPSTREAM: `127.0.0.1:${upstreamPort}`,
    LISTEN: `http://127.0.0.1:${port}`,
  };
  return inTempDir(dir, () => spawnProxy('caddy', ['run', '--config', file, '--adapter', 'caddyfile'], port, env));
}
