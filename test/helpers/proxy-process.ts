/**
 * Running a real proxy (Debian's nginx or caddy) as a child process of the test: a free loopback port, a temp
 * directory, the binary's presence (a missing one fails the test with the package to install: the proxies are
 * part of what ships, so their proof is never skipped), waiting until it accepts connections, stopping it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';

export interface RunningProxy {
  /** The loopback port clients connect to. */
  readonly port: number;
  /** What the proxy wrote to stdout and stderr so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** Fails (never skips) when `binary` does not run; `args` is its version flag. */
export function requireProxyBinary(binary: string, args: string[], pkg: string): void {
  const probe = spawnSync(binary, args, { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `\`${binary}\` was not found or does not run: install it with \`apt-get install ${pkg}\` (make test does, through scripts/system-packages.sh)`,
    );
  }
}

/** A port that was free a moment ago (bound to 127.0.0.1:0, then closed). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * `shipped` (a file of deploy/) with each `[from, to]` replaced; each `from` must occur exactly once, so a change
 * to the shipped file that the test no longer matches fails loudly instead of testing something else.
 */
export async function templated(shipped: string, replacements: readonly (readonly [string, string])[]): Promise<string> {
  let text = await readFile(shipped, 'utf8');
  for (const [from, to] of replacements) {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`${shipped}: expected "${from}" exactly once, found it ${count} times`);
    text = text.replace(from, to);
  }
  return text;
}

/** Spawns the proxy and resolves once `port` accepts connections; rejects (after killing it) otherwise. */
export async function spawnProxy(
  binary: string,
  args: string[],
  port: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningProxy> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (code, signal) => resolve(`exited with ${code ?? signal}`));
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const outcome = await Promise.race([accepts(port).then((ok) => (ok ? 'up' : 'not yet')), exited]);
    if (outcome === 'up') break;
    if (outcome !== 'not yet' || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`${binary} did not start (${outcome === 'not yet' ? 'timed out' : outcome}):\n${output.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, log: () => output, stop: () => stopChild(child) };
}

/** Runs `start` for a proxy living in the temporary `dir`: the dir goes when the proxy stops, or fails to start. */
export async function inTempDir(dir: string, start: () => Promise<RunningProxy>): Promise<RunningProxy> {
  try {
    const proxy = await start();
    return {
      ...proxy,
      async stop() {
        await proxy.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
