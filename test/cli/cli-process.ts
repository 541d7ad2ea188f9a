/**
 * Runs the real `gatehouse` CLI as a child process (`node --import tsx src/cli/gatehouse.ts`, cwd = repo root)
 * and reads what it actually writes: stdout lines, parsed as JSON log lines where they are.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli/gatehouse.ts'];

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The parent's environment without anything that would steer the CLI (or node:test) in the child. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('GATEHOUSE_') || key === 'NODE_ENV' || key.startsWith('NODE_TEST')) continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs a command to its end (killed after `timeoutMs`). */
export function runCli(args: readonly string[], opts: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {}) {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO_ROOT, env: cleanEnv(opts.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** A long-running command (`serve`, `dev`) whose output is watched line by line. */
export class CliProcess {
  readonly lines: string[] = [];
  stderr = '';
  readonly #child: ChildProcess;
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #onStdout: (chunk: string) => void;
  #waiters: (() => void)[] = [];

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.#child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO_ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    this.#onStdout = (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      this.#wake();
    };
    this.#child.stdout!.setEncoding('utf8').on('data', this.#onStdout);
    this.#child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.#exit = new Promise((resolve) => this.#child.on('exit', (code, signal) => resolve({ code, signal })));
    void this.#exit.then(() => this.#wake());
  }

  /** The child's process id (its memory is read from /proc/PID/status). */
  get pid(): number {
    return this.#child.pid!;
  }

  /** Index of the next line to come: pass it as `from` to wait only for lines written after now. */
  mark(): number {
    return this.lines.length;
  }

  /** JSON log lines (pino), in order, from `from` on. */
  logs(from = 0): Record<string, unknown>[] {
    return this.lines.slice(from).flatMap((line) => {
      try {
        const value: unknown = JSON.parse(line);
        return value && typeof value === 'object' ? [value as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  }

  /** The first line from `from` on matching `test`; rejects on exit or after `timeoutMs`. */
  async waitForLine(test: RegExp | ((line: string) => boolean), from = 0, timeoutMs = 30_000): Promise<string> {
    const matches = typeof test === 'function' ? test : (line: string) => test.test(line);
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.#exit.then(() => (exited = true));
    for (;;) {
      const hit = this.lines.slice(from).find(matches);
      if (hit !== undefined) return hit;
      if (exited) throw new Error(`exited before ${String(test)}; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${String(test)}; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first JSON log line from `from` on whose `msg` is `msg` (and that passes `test`). */
  async waitForLog(msg: string, from = 0, test: (log: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    const line = await this.waitForLine((l) => {
      const log = safeParse(l) as Record<string, unknown> | undefined;
      return typeof log === 'object' && log !== null && log.msg === msg && test(log);
    }, from);
    return safeParse(line) as Record<string, unknown>;
  }

  /** Stops reading the child's stdout, leaving the pipe open: once its buffer is full, the child's writes wait. */
  stopReadingStdout(): void {
    this.#child.stdout!.off('data', this.#onStdout).pause();
  }

  /** Closes the reading end of the child's stdout, as when its parent is gone: the child's writes fail (EPIPE). */
  closeStdout(): void {
    this.#child.stdout!.destroy();
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit;
  }

  /** Cleanup for after(): kill if still running. */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.#exit;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

function safeParse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** A fresh temporary directory and its remover. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
