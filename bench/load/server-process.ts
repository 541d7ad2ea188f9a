/**
 * A server under test, run as a child process so its CPU time and memory are its own: read from /proc for the
 * process and every descendant (a server that forks workers is measured as a whole). `attach` measures a process
 * started elsewhere (any pid), so a scenario can target any address.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

export interface ServerProcess {
  readonly pid: number;
  /** CPU time (user + system) of the process and its descendants, µs. */
  cpuMicros(): number;
  /** Resident memory of the process and its descendants, bytes. */
  rssBytes(): number;
  stop(): Promise<void>;
}

function statFields(pid: number): string[] | undefined {
  try {
    // The command name may hold spaces and parentheses: fields start after the last ") ".
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return undefined; // gone
  }
}

/** The pid and all its live descendants (from /proc/PID/task/TID/children). */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let k = 0; k < all.length; k++) {
    try {
      const tasks = readFileSync(`/proc/${all[k]}/task/${all[k]}/children`, 'utf8').trim();
      if (tasks) all.push(...tasks.split(' ').map(Number));
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

/** utime + stime of the process tree, µs (fields 14 and 15 of /proc/PID/stat, here at index 11 and 12). */
export function treeCpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks / CLOCK_TICKS_PER_SECOND) * 1e6;
}

/** Resident set of the process tree, bytes (field 24 of /proc/PID/stat, in pages). */
export function treeRssBytes(pid: number): number {
  let pages = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    if (f) pages += Number(f[21]);
  }
  return pages * PAGE_BYTES;
}

// Children never outlive the bench, even when it fails: killed on exit.
const children = new Set<ChildProcess>();
const killChildren = () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
process.once('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killChildren();
    process.exit(130);
  });
}

/** A process started elsewhere, measured by pid; stop() does nothing. */
export function attach(pid: number): ServerProcess {
  return { pid, cpuMicros: () => treeCpuMicros(pid), rssBytes: () => treeRssBytes(pid), stop: async () => {} };
}

export interface SpawnedServer<T> extends ServerProcess {
  /** What the child announced on stdout when it was ready. */
  readonly ready: T;
  readonly child: ChildProcess;
}

/**
 * Starts `node ARGS` and waits for the first stdout line `parseReady` accepts. stdout goes to a file of its own (an
 * O_APPEND descriptor), read only until that line and emptied every second after: a pipe read (and decoded) for as
 * long as the child runs would charge the harness's CPU, on the cores it shares with the server, for every log line
 * a server writes, and so slow the load against gatehouse (an audit line per decision) but not against a baseline
 * that writes nothing. The child still pays for each write, as it does in production.
 */
export function spawnServer<T>(
  args: readonly string[],
  parseReady: (line: string) => T | undefined,
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<SpawnedServer<T>> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-stdout-'));
  const out = openSync(join(dir, 'stdout'), 'a+');
  const child = spawn(process.execPath, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', out, 'pipe'] });
  // Unlinked at once: the two descriptors keep the file, and nothing is left behind however the harness ends.
  rmSync(dir, { recursive: true, force: true });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    const buffer = Buffer.alloc(64 * 1024);
    let offset = 0;
    let partial = '';
    let found = false;
    let emptying: NodeJS.Timeout | undefined;
    const exited = new Promise<void>((settle) => child.once('exit', () => settle()));
    const timer = setTimeout(() => {
      clearInterval(reading);
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: not ready in time; stderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    const ready = (value: T) => {
      found = true;
      clearInterval(reading);
      clearTimeout(timer);
      emptying = setInterval(() => ftruncateSync(out, 0), 1000);
      const pid = child.pid!;
      resolve({
        pid,
        ready: value,
        child,
        cpuMicros: () => treeCpuMicros(pid),
        rssBytes: () => treeRssBytes(pid),
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(killer);
        },
      });
    };
    /** Reads what the child wrote since; true once the ready line was among it. */
    const readReady = (): boolean => {
      for (let n = readSync(out, buffer, 0, buffer.length, offset); n > 0; n = readSync(out, buffer, 0, buffer.length, offset)) {
        offset += n;
        partial += buffer.toString('latin1', 0, n);
      }
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const value = parseReady(Buffer.from(line, 'latin1').toString('utf8'));
        if (value !== undefined) {
          ready(value);
          return true;
        }
      }
      return false;
    };
    const reading = setInterval(readReady, 10);
    void exited.then(() => {
      children.delete(child);
      // A child that wrote its ready line and exited between two reads was ready, then gone.
      if (!found) readReady();
      clearInterval(emptying);
      if (!found) {
        clearInterval(reading);
        clearTimeout(timer);
        reject(new Error(`${args.join(' ')} exited before it was ready; stderr: ${stderr}`));
      }
      closeSync(out);
    });
  });
}

/** Children announcing `PORT <n>` (the bench's own servers). */
export const portLine = (line: string): number | undefined => {
  const match = /^PORT (\d+)$/.exec(line.trim());
  return match ? Number(match[1]) : undefined;
};
