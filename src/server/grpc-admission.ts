/**
 * The gRPC side of admission control (admission.ts), around the handlers of gatehouse's AuthService and Envoy's
 * Check: a call takes a slot when its handler starts, which grpc-js does for these unary methods only once the
 * request is complete (half-close), and gives it back when the handler answers, with a response or a status, or
 * when the call is cancelled (by its client or its deadline). A stream that never finishes sending its request holds
 * no slot, nor does a client that never reads its answer (a closed flow-control window: the answer is handed over all
 * the same), nor one that cancels, so none can crowd out real calls (streams are bounded per connection:
 * grpc-server.ts). A call finding every slot taken gets RESOURCE_EXHAUSTED at once, trailers-only (no headers went
 * out), so a client's retry policy may send it to another replica. Health and reflection are not wrapped: never shed.
 *
 * Not a grpc-js interceptor: an interceptor layer with these hooks cost a warm Authorize several µs of server CPU
 * (bench/results/hot-path.md section 7), where this is a closure and a listener per call. The metrics interceptor, which sees
 * every status, shed ones included, stays.
 */
import { Metadata, status as Status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { enterOnce, OVERLOADED_MESSAGE, type Admission } from './admission.js';
import type { Door } from './telemetry-hooks.js';

type Unary = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

/** `handlers` (every one unary) behind `admission`, each call counted on `door`. */
export function admittedHandlers(admission: Admission, door: Door, handlers: UntypedServiceImplementation): UntypedServiceImplementation {
  const admitted: UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers)) admitted[name] = admittedUnary(admission, door, handler as Unary);
  return admitted;
}

function admittedUnary(admission: Admission, door: Door, handler: Unary): Unary {
  return (call, callback) => {
    const release = enterOnce(admission, door);
    if (!release) {
      callback({ code: Status.RESOURCE_EXHAUSTED, details: OVERLOADED_MESSAGE, metadata: new Metadata() });
      return;
    }
    // A call its client cancels (or whose deadline passes) gives its slot back at once, as its stream: the streams of a
    // connection are bounded, and a slot per cancelled stream would let one connection hold every slot.
    call.on('cancelled', release);
    try {
      handler(call, (err, value, trailer, flags) => {
        release();
        callback(err, value, trailer, flags);
      });
    } catch (err) {
      // Every handler here answers its own throws; one that escaped anyway must not keep the slot.
      release();
      throw err;
    }
  };
}
