/**
 * Where gatehouse's JSON lines go in production: stdout, through a bounded buffer, so that logging can never stop
 * the service. When nobody reads stdout (a stalled log shipper) the buffer fills to its bound and further lines are
 * dropped and counted (`gatehouse_log_lines_dropped_total`) instead of blocking; when stdout is gone (EPIPE: an
 * orphaned process) every line is dropped and counted, and nothing crashes.
 *
 * Why not pino's sonic-boom destination: it writes fd 1 with fs.write on libuv's thread pool, and a pipe is a
 * blocking fd, so a full pipe blocks a pool thread for good; process.exit then waits for that thread forever (and
 * pino's exit hook flushSync()s, which blocks too). Measured here: a gatehouse so stuck ignored SIGTERM until killed.
 * Node's own process.stdout writes a pipe non-blocking through the event loop; what it has not written yet is its
 * `writableLength`, which is what is bounded here.
 *
 * Lines of one event-loop turn go out in one write: joined into one string from the first line on, and written by
 * `setImmediate`, which runs once the turn's I/O callbacks are done. Every decision writes an audit line, and a write
 * to a pipe wakes its reader, so a write per line (or per callback, as with `process.nextTick`) costs each call a
 * syscall and a wake-up: measured here, 30 µs of a forward-auth call's ~110 µs of CPU (bench/results/hot-path.md).
 * One string rather than a corked stream: a corked line is a queued chunk object each, written by `writev` chunk by
 * chunk. No line waits for a timer.
 */
import type { Writable } from 'node:stream';

export interface LogDestination {
  /** pino's destination interface: one JSON line. */
  write(line: string): void;
  /** Calls back once every accepted line is written, or after `timeoutMs`, whichever comes first. Never throws. */
  flush(cb?: (err?: Error) => void, timeoutMs?: number): void;
  /** Lines dropped since start: the buffer was full, or the output is gone. */
  dropped(): number;
}

/**
 * Lines still held when the process exits (process.exit from anywhere, an uncaught exception) are handed to the
 * stream then, synchronously in the 'exit' event, so they get the write they would have had at the end of the turn:
 * a file or a pipe with room takes them at once. One listener for every destination.
 */
const heldAtExit = new Set<() => void>();
let exitHooked = false;

function writeAtExit(write: () => void): void {
  heldAtExit.add(write);
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const pending of [...heldAtExit]) pending();
  });
}

/** How long `flush` waits by default: the last lines are worth a moment, never a hung shutdown. */
export const FLUSH_TIMEOUT_MS = 1000;
const FLUSH_POLL_MS = 10;

/**
 * A bounded destination over `out` (process.stdout in production); `maxBytes`: logging.buffer_bytes. With
 * `linePerWrite`, every line is its own write: several processes sharing one stdout pipe (server.workers > 1) then
 * never interleave within a line (a pipe write of up to PIPE_BUF, 4 KiB, is atomic; a corked batch may be split).
 */
export function boundedDestination(out: Writable, maxBytes: number, linePerWrite = false): LogDestination {
  let dropped = 0;
  let broken = false;
  // The lines of this turn not yet handed to `out`, joined ('' when none), and their size in bytes: counted as bytes,
  // so the bound holds on a stream that counts bytes (a file) as on one that counts characters (a pipe).
  let held = '';
  let heldBytes = 0;
  const writeHeld = () => {
    if (held === '') return;
    const lines = held;
    held = '';
    heldBytes = 0;
    heldAtExit.delete(writeHeld);
    out.write(lines);
  };
  // EPIPE, or any other write error: the output is gone for good; from now on every line is dropped.
  out.on('error', () => {
    broken = true;
  });
  return {
    write(line) {
      const bytes = Buffer.byteLength(line);
      if (broken || out.writableLength + heldBytes + bytes > maxBytes) {
        dropped += 1;
        return;
      }
      if (linePerWrite) {
        out.write(line);
        return;
      }
      if (held === '') {
        setImmediate(writeHeld);
        writeAtExit(writeHeld);
      }
      held += line;
      heldBytes += bytes;
    },
    flush(cb = () => {}, timeoutMs = FLUSH_TIMEOUT_MS) {
      writeHeld();
      const deadline = performance.now() + timeoutMs;
      const check = () => {
        if (broken || out.writableLength === 0 || performance.now() >= deadline) cb();
        else setTimeout(check, FLUSH_POLL_MS);
      };
      check();
    },
    dropped: () => dropped,
  };
}
