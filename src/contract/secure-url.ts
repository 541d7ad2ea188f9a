/**
 * Where plain text is allowed: loopback only. The one loopback check, shared by the config (issuer URLs), the
 * verification core, and the client library (token endpoints, the gatehouse address).
 */

/** https everywhere; plain http only on loopback, so local development and tests work without TLS. */
export function isSecureUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && isLoopbackHost(url.hostname);
}

/** `localhost`, `::1` (bracketed, as URL.hostname gives it, or bare) or any 127.x.y.z. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
