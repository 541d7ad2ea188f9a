// `make demo` as a user runs it: the example microservices (orders behind the server interceptor, storefront with
// client credentials) and gatehouse play the scripted story; each scene ends the way the README promises.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function runDemo(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('make demo', () => {
  it('plays allowed, missing role, expired, fail closed and recovery, then prints the counting metrics', async () => {
    const { code, out } = await runDemo();
    assert.equal(code, 0, out);
    const scenes = out.split(/\n(?=\d\. )/);
    const scene = (n: number) => scenes.find((s) => s.startsWith(`${n}. `)) ?? '';
    assert.match(scene(1), /allowed:/);
    assert.match(scene(2), /PERMISSION_DENIED \(gatehouse-reason MISSING_ROLE\)/);
    assert.match(scene(3), /UNAUTHENTICATED \(gatehouse-reason TOKEN_EXPIRED\)/);
    assert.match(scene(4), /UNAVAILABLE \(gatehouse-reason GATEHOUSE_UNAVAILABLE\)/);
    assert.match(scene(6), /allowed:/);
    assert.match(out, /gatehouse_denials_total\{issuer="dev",reason="MISSING_ROLE",door="grpc"\} 1/);
    assert.match(out, /gatehouse_client_fail_closed_total\{side="server"\} [1-9]/);
  });
});
