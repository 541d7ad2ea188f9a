/**
 * Whether a grpc-js target stays on this host, so tokens may travel in plaintext to it without the caller
 * saying so: a unix socket, or a target every address of which is loopback. grpc-js targets are
 * `[scheme:][//authority/]path`; `ipv4:` and `ipv6:` paths are comma-separated lists (`ipv4:127.0.0.1:50051,
 * 127.0.0.1:50052`), and one address off loopback makes the whole list remote.
 */
import { isLoopbackHost } from '../contract/secure-url.js';

const LIST_SCHEMES = new Set(['ipv4', 'ipv6']);

export function isLoopbackTarget(target: string): boolean {
  if (target.startsWith('unix:') || target.startsWith('unix-abstract:')) return true;
  const match = /^(dns|ipv4|ipv6):(?:\/\/([^/]*)\/)?(.*)$/.exec(target);
  const scheme = match?.[1] ?? 'dns';
  const authority = match?.[2] ?? '';
  const path = match ? match[3]! : target;
  const addresses = LIST_SCHEMES.has(scheme) ? path.split(',') : [path];
  // `dns://server/name` asks that DNS server, not /etc/hosts: only an address literal is sure to be loopback.
  const literalOnly = scheme === 'dns' && authority !== '';
  return addresses.every((address) => {
    const host = hostOf(address.trim());
    return host !== '' && isLoopbackHost(host) && !(literalOnly && host === 'localhost');
  });
}

/** `host:port`, `[v6]:port`, `host` or a bare IPv6 address, as grpc-js splits them. */
function hostOf(address: string): string {
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    return end > 0 ? address.slice(1, end) : '';
  }
  const colons = address.split(':').length - 1;
  if (colons === 1) return address.slice(0, address.indexOf(':'));
  return address;
}
