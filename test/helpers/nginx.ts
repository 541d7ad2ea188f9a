/**
 * Debian's nginx in front of `upstream`, asking gatehouse (`gatehousePort`, its server.http listener) through the
 * shipped deploy/nginx/gatehouse.conf, with its addresses replaced by the test's: what ships is what is proven.
 * Its own prefix, config and temp dirs, in a temp dir; never the system service.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, inTempDir, requireProxyBinary, spawnProxy, templated, type RunningProxy } from './proxy-process.js';

export const SHIPPED_NGINX_CONF = join(import.meta.dirname, '../../deploy/nginx/gatehouse.conf');

export async function startNginx(gatehousePort: number, upstreamPort: number): Promise<RunningProxy> {
  requireProxyBinary('nginx', ['-v'], 'nginx');
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-nginx-'));
  await mkdir(join(dir, 'logs'));
  await mkdir(join(dir, 'tmp'));
  const port = await freePort();
  const site = await templated(SHIPPED_NGINX_CONF, [
    ['server 127.0.0.1:9464;', `server 127.0.0.1:${gatehousePort};`],
    ['server 127.0.0.1:8080;', `server 127.0.0.1:${upstreamPort};`],
    ['listen 8000;', `listen 127.0.0.1:${port};`],
  ]);
  await writeFile(join(dir, 'gatehouse.conf'), site);
  const temp = (name: string) => `${name} ${join(dir, 'tmp', name)};`;
  await writeFile(
    join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      'error_log stderr notice;',
      'events { worker_connections 128; }',
      'http {',
      `  access_log ${join(dir, 'logs', 'access.log')};`,
      `  ${temp('client_body_temp_path')} ${temp('proxy_temp_path')} ${temp('fastcgi_temp_path')}`,
      `  ${temp('uwsgi_temp_path')} ${temp('scgi_temp_path')}`,
      `  include ${join(dir, 'gatehouse.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  return inTempDir(dir, () => spawnProxy('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'], port));
}
