// No Envoy or Istio can run here, so their shipped configs are kept honest by reading them: ext_authz points at
// gatehouse's gRPC port over the v3 API, fails closed, never sends bodies, has a timeout; the Istio provider and the
// CUSTOM AuthorizationPolicy name each other.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { ACTION_EXTENSION } from '../../src/server/envoy-request.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const GATEHOUSE_GRPC_PORT = 50051;

describe('deploy/envoy/envoy.yaml', () => {
  const config = parse(read('deploy/envoy/envoy.yaml')) as Record<string, any>;
  const manager = config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  const filters: Record<string, any>[] = manager.http_filters;
  const extAuthz = filters.find((f) => f.name === 'envoy.filters.http.ext_authz')!.typed_config;
  const cluster = (name: string) => config.static_resources.clusters.find((c: { name: string }) => c.name === name);

  it('asks gatehouse over gRPC, API v3, with a timeout, failing closed and without bodies', () => {
    assert.equal(extAuthz['@type'], 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz');
    assert.equal(extAuthz.transport_api_version, 'V3');
    assert.equal(extAuthz.failure_mode_allow, false);
    assert.equal(extAuthz.with_request_body, undefined);
    assert.match(extAuthz.grpc_service.timeout, /^\d+(\.\d+)?s$/);
    const gatehouse = cluster(extAuthz.grpc_service.envoy_grpc.cluster_name);
    assert.ok(gatehouse, 'the cluster ext_authz names exists');
    assert.ok(
      gatehouse.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config
        .http2_protocol_options,
    );
    assert.equal(gatehouse.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, GATEHOUSE_GRPC_PORT);
  });

  it('sends gatehouse the headers it reads, and every x-gatehouse-* so that forged ones are removed', () => {
    const patterns: Record<string, string>[] = extAuthz.allowed_headers.patterns;
    for (const exact of ['authorization', 'content-type', 'x-request-id'])
      assert.ok(
        patterns.some((p) => p.exact === exact),
        exact,
      );
    assert.ok(patterns.some((p) => p.prefix === 'x-gatehouse-'));
  });

  it('ext_authz runs before the router, in front of a gRPC upstream; a route may name its action', () => {
    assert.deepEqual(
      filters.map((f) => f.name),
      ['envoy.filters.http.ext_authz', 'envoy.filters.http.router'],
    );
    const routes: Record<string, any>[] = manager.route_config.virtual_hosts[0].routes;
    const upstream = cluster(routes[0]!.route.cluster);
    assert.ok(routes[0]!.match.grpc, 'a gRPC route');
    assert.ok(
      upstream.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config
        .http2_protocol_options,
    );
    const named = routes.find((r) => r.typed_per_filter_config)!;
    assert.ok(named.typed_per_filter_config['envoy.filters.http.ext_authz'].check_settings.context_extensions[ACTION_EXTENSION]);
  });
});

describe('deploy/istio', () => {
  const meshConfigMap = parse(read('deploy/istio/mesh-config.yaml')) as Record<string, any>;
  const mesh = parse(meshConfigMap.data.mesh) as Record<string, any>;
  const [policy] = parseAllDocuments(read('deploy/istio/authorization-policy.yaml')).map((d) => d.toJS() as Record<string, any>);

  it('the mesh names gatehouse as an envoyExtAuthzGrpc provider on its gRPC port, failing closed with a timeout', () => {
    const provider = mesh.extensionProviders.find((p: Record<string, unknown>) => p.envoyExtAuthzGrpc);
    assert.ok(provider, 'an envoyExtAuthzGrpc provider');
    assert.equal(provider.envoyExtAuthzGrpc.port, GATEHOUSE_GRPC_PORT);
    assert.equal(provider.envoyExtAuthzGrpc.failOpen, false);
    assert.match(provider.envoyExtAuthzGrpc.timeout, /^\d+(\.\d+)?s$/);
    assert.equal(provider.envoyExtAuthzGrpc.includeRequestBodyInCheck, undefined);
    assert.equal(policy!.spec.provider.name, provider.name, 'the policy names this provider');
  });

  it('the AuthorizationPolicy is CUSTOM, selects workloads, and has rules (none would match nothing)', () => {
    assert.equal(policy!.kind, 'AuthorizationPolicy');
    assert.equal(policy!.spec.action, 'CUSTOM');
    assert.ok(Object.keys(policy!.spec.selector.matchLabels).length > 0);
    assert.ok(policy!.spec.rules.length > 0);
  });
});
