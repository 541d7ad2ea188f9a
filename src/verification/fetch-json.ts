/**
 * The network edge of the core: GET a JSON document with a timeout and a size limit.
 * `fetch` is injected so tests can fake the provider without touching the network.
 */
export type Fetch = typeof globalThis.fetch;

const MAX_DOCUMENT_BYTES = 1024 * 1024;

export class FetchError extends Error {
  override readonly name = 'FetchError';
}

/**
 * GETs `url` as a JSON object. `signal` ends the request, headers and body alike; by default a timeout of
 * `timeoutMs`, or one the caller shares across several fetches (so that together they take no longer).
 */
export async function fetchJson(
  fetchImpl: Fetch,
  url: string,
  timeoutMs: number,
  signal: AbortSignal = AbortSignal.timeout(timeoutMs),
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal,
    });
  } catch (err) {
    throw new FetchError(isTimeout(err) ? `timed out after ${timeoutMs} ms: ${url}` : `cannot reach ${url}: ${causeOf(err)}`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new FetchError(`HTTP ${response.status} from ${url}`);
  }
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_DOCUMENT_BYTES) {
    await response.body?.cancel().catch(() => {});
    throw new FetchError(`document too large (${length} bytes) from ${url}`);
  }
  const text = await readLimited(response, url, timeoutMs);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FetchError(`not JSON: ${url}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FetchError(`not a JSON object: ${url}`);
  return value as Record<string, unknown>;
}

function isTimeout(err: unknown): boolean {
  return (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError';
}

function causeOf(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; message?: string };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** The body as text, refusing it as soon as it passes the limit (a missing or false Content-Length included). */
async function readLimited(response: Response, url: string, timeoutMs: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > MAX_DOCUMENT_BYTES) {
        await reader.cancel().catch(() => {});
        throw new FetchError(`document too large (over ${MAX_DOCUMENT_BYTES} bytes) from ${url}`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof FetchError) throw err;
    if (isTimeout(err)) throw new FetchError(`timed out after ${timeoutMs} ms: ${url}`);
    throw new FetchError(`reading ${url} failed: ${causeOf(err)}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
