/**
 * An https.Agent for SDKs under test (the Azure SDK takes one as its `agent` option): it trusts the given test
 * CA, connects only to 127.0.0.1, and records every other host it was asked for, failing that connection, so
 * a test can prove nothing went beyond loopback (e.g. to login.microsoftonline.com for instance discovery).
 */
import { Agent, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';

export class LoopbackOnlyAgent extends Agent {
  /** Hosts the SDK tried to reach that are not loopback, in order. */
  readonly refused: string[] = [];

  constructor(ca: string) {
    super({ ca, keepAlive: false });
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = options.host ?? options.hostname ?? '';
    if (host !== '127.0.0.1') {
      this.refused.push(host);
      const err = new Error(`the test allows no network beyond loopback: refused ${host}`);
      if (!callback) throw err;
      callback(err, undefined as unknown as Duplex);
      return undefined;
    }
    return super.createConnection(options, callback);
  }
}
