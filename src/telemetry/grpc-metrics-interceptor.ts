/**
 * A grpc-js server interceptor recording the standard gRPC server metrics (the go-grpc-prometheus names, so
 * existing dashboards work): started, handled by Go-style code name, handling seconds.
 *
 * The status is recorded once, in `onCancel`: grpc-js calls it at the end of every call, after a status was
 * sent and also when the stream closed without one (client cancel, deadline, a transport error), whereas
 * `sendStatus` misses statuses the transport sends itself. grpc-js answers UNIMPLEMENTED for unregistered
 * paths before any interceptor runs, so `grpc_method` only ever holds methods of registered services.
 */
import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status as Status, type ServerInterceptor } from '@grpc/grpc-js';
import type { CounterSeries, HistogramSeries } from './hot-series.js';
import type { GatehouseMetrics } from './metrics.js';

/** Go's `codes.Code.String()`, index = numeric code. */
export const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

/** The part of a method definition the metrics need (grpc-js `MethodDefinition` fits). */
export interface GrpcMethod {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

type GrpcMetrics = GatehouseMetrics['grpc'];
type MethodLabels = { grpc_type: string; grpc_service: string; grpc_method: string };

export function goCodeName(code: number): string {
  return GO_CODE_NAMES[code] ?? 'Unknown';
}

/** `/pkg.Service/Method` → labels; the type as go-grpc-prometheus names it. */
export function methodLabels(method: GrpcMethod): MethodLabels {
  const [, service = '', name = ''] = method.path.split('/');
  const grpc_type = method.requestStream
    ? method.responseStream
      ? 'bidi_stream'
      : 'client_stream'
    : method.responseStream
      ? 'server_stream'
      : 'unary';
  return { grpc_type, grpc_service: service, grpc_method: name };
}

/** Creates every series at zero (each method, each code), so `rate()` and alerts work from the first scrape. */
export function preinitialiseGrpcMetrics(metrics: GrpcMetrics, methods: Iterable<GrpcMethod>): void {
  for (const method of methods) {
    const labels = methodLabels(method);
    metrics.started.inc(labels, 0);
    metrics.handling.zero(labels);
    for (const grpc_code of GO_CODE_NAMES) metrics.handled.inc({ ...labels, grpc_code }, 0);
  }
}

/** A method's series, found once per method path: started, handling, and handled by each code. */
interface MethodSeries {
  readonly labels: MethodLabels;
  readonly started: CounterSeries;
  readonly handling: HistogramSeries;
  readonly handled: readonly CounterSeries[];
}

function methodSeries(metrics: GrpcMetrics, method: GrpcMethod): MethodSeries {
  const labels = methodLabels(method);
  return {
    labels,
    started: metrics.started.series(labels),
    handling: metrics.handling.series(labels),
    handled: GO_CODE_NAMES.map((grpc_code) => metrics.handled.series({ ...labels, grpc_code })),
  };
}

/** The interceptor; put it first (outermost) so it also sees calls that later interceptors reject. */
export function grpcMetricsInterceptor(metrics: GrpcMetrics): ServerInterceptor {
  // Per method path, not per call: interceptors only see registered methods, so the map is bounded by the services.
  const byPath = new Map<string, MethodSeries>();
  return (methodDescriptor, call) => {
    let series = byPath.get(methodDescriptor.path);
    if (!series) {
      series = methodSeries(metrics, methodDescriptor);
      byPath.set(methodDescriptor.path, series);
    }
    const { labels, started, handling, handled } = series;
    let startedAt = 0;
    let sentCode: number | undefined;
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      // No status went through us: the client went away, or grpc-js ended the call itself (its deadline timer).
      const code = sentCode ?? (Date.now() >= Number(call.getDeadline()) ? Status.DEADLINE_EXCEEDED : Status.CANCELLED);
      const byCode = handled[code];
      if (byCode) byCode.count += 1;
      else metrics.handled.inc({ ...labels, grpc_code: goCodeName(code) });
      handling.observe((performance.now() - startedAt) / 1000);
    };
    const responder = new ResponderBuilder()
      .withStart((next) => {
        startedAt = performance.now();
        started.count += 1;
        next(new ServerListenerBuilder().withOnCancel(record).build());
      })
      .withSendStatus((status, next) => {
        sentCode ??= status.code;
        next(status);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
