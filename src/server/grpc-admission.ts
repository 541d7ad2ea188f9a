/**
 * The gRPC side of admission control (admission.ts), as a server interceptor: a call to gatehouse's AuthService or
 * Envoy's Check takes a slot when its request is complete (half-close: every method is unary, and only then does work
 * begin) and gives it back once its answer is written, with its status, or when it is cancelled. A stream that never
 * finishes sending its request (no half-close), or a client that never reads its answer (a closed flow-control
 * window), holds no slot, so neither can crowd out real calls (they are bounded per connection: grpc-server.ts). A call finding
 * every slot taken gets RESOURCE_EXHAUSTED at once, trailers-only (no headers went out), so a client's retry policy
 * may send it to another replica. Health and reflection are never shed. Put it after the metrics interceptor, so
 * shed calls are counted under their code too.
 */
import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as Status,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { AUTH_SERVICE_NAME, ENVOY_AUTHORIZATION_SERVICE } from '../contract/proto.js';
import { enterOnce, OVERLOADED_MESSAGE, type Admission } from './admission.js';
import type { Door } from './telemetry-hooks.js';

const DOOR_OF_SERVICE: Readonly<Record<string, Door>> = { [AUTH_SERVICE_NAME]: 'grpc', [ENVOY_AUTHORIZATION_SERVICE]: 'envoy' };

/** The door of a method path (`/pkg.Service/Method`), or undefined for what is never shed (health, reflection). */
function doorOf(path: string): Door | undefined {
  return DOOR_OF_SERVICE[path.slice(1, path.lastIndexOf('/'))];
}

export function grpcAdmissionInterceptor(admission: Admission): ServerInterceptor {
  return (method, call) => {
    const door = doorOf(method.path);
    if (!door) return new ServerInterceptingCall(call);
    let release: (() => void) | undefined;
    let shed = false;
    const listener = new ServerListenerBuilder()
      // A slot is taken when the request is complete (half-close): every AuthService and Check method is unary, so
      // a stream whose message arrived but which never half-closes holds nothing.
      .withOnReceiveHalfClose((next) => {
        if (!release && !shed) {
          release = enterOnce(admission, door);
          if (!release) {
            shed = true;
            call.sendStatus({ code: Status.RESOURCE_EXHAUSTED, details: OVERLOADED_MESSAGE, metadata: new Metadata() });
            return;
          }
        }
        if (!shed) next();
      })
      .withOnCancel(() => release?.())
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => next(listener))
      // The answer is ready: the work is done. Its bytes may wait on the peer's flow-control window; no slot waits with them.
      .withSendMessage((message, next) => {
        release?.();
        next(message);
      })
      .withSendStatus((status, next) => {
        release?.();
        next(status);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
