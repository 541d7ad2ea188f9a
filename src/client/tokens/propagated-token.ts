/**
 * Forwards the token of the incoming call being handled (set by the server interceptor) to downstream calls,
 * so the downstream service decides on the original caller's identity. No on-behalf-of exchange: the token
 * must be accepted by the downstream service as it is (its audience included).
 */
import { GatehouseClientError } from '../errors.js';
import { incomingCall } from '../incoming-call.js';
import type { TokenProvider } from './token-provider.js';

export function propagatedToken(): TokenProvider {
  return {
    async getToken() {
      const token = incomingCall()?.token;
      if (!token) {
        throw new GatehouseClientError(
          'ERR_NO_INCOMING_TOKEN',
          'no incoming call with a bearer token to propagate: call downstream from within a handler protected by the server interceptor',
        );
      }
      return token;
    },
  };
}
