// gatehouse's trimmed copy of Envoy's ext_authz protos (proto/envoy, proto/google/rpc) is Envoy's wire format: every
// message, field and enum value it declares exists in Envoy's own published files under the same full name, number,
// type and cardinality. Trimming may leave fields out; it may never rename, renumber or retype one.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { ENVOY_PUBLISHED_INCLUDE_DIRS } from '../helpers/envoy-client.js';

const ENTRY = 'envoy/service/auth/v3/external_auth.proto';

function load(includeDirs: readonly string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    return includeDirs.map((dir) => `${dir}/${target}`).find((candidate) => existsSync(candidate)) ?? target;
  };
  root.loadSync(ENTRY, { keepCase: true });
  root.resolveAll();
  return root;
}

function typesOf(namespace: protobuf.NamespaceBase): (protobuf.Type | protobuf.Enum)[] {
  const found: (protobuf.Type | protobuf.Enum)[] = [];
  for (const nested of namespace.nestedArray) {
    if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum) found.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) found.push(...typesOf(nested));
  }
  return found;
}

/**
 * Fields of Envoy's API newer than the copy @grpc/grpc-js-xds publishes, with their number in envoyproxy/data-plane-api
 * (commit 84e8436, January 2026). gatehouse declares them and never sends them.
 */
const NEWER_THAN_PUBLISHED: Readonly<Record<string, number>> = { '.envoy.service.auth.v3.CheckResponse.error_response': 5 };

const ours = load([fileURLToPath(new URL('../../proto', import.meta.url))]);
const envoys = load(ENVOY_PUBLISHED_INCLUDE_DIRS);

describe('the trimmed Envoy protos', () => {
  const declared = typesOf(ours).filter((t) => /^\.(envoy|google\.rpc)\./.test(t.fullName));

  it('declare every message the Check door needs', () => {
    const names = declared.map((t) => t.fullName);
    for (const name of [
      '.envoy.service.auth.v3.CheckRequest',
      '.envoy.service.auth.v3.AttributeContext.Peer',
      '.envoy.service.auth.v3.AttributeContext.Request',
      '.envoy.service.auth.v3.AttributeContext.HttpRequest',
      '.envoy.service.auth.v3.CheckResponse',
      '.envoy.service.auth.v3.DeniedHttpResponse',
      '.envoy.service.auth.v3.OkHttpResponse',
      '.envoy.config.core.v3.HeaderValueOption',
      '.envoy.config.core.v3.HeaderMap',
      '.google.rpc.Status',
    ]) {
      assert.ok(names.includes(name), name);
    }
  });

  it('match Envoy field by field: number, type, repeated, map key', () => {
    let fields = 0;
    for (const type of declared) {
      const theirs = envoys.lookup(type.fullName);
      assert.ok(theirs, `${type.fullName} is not in Envoy's files`);
      if (type instanceof protobuf.Enum) {
        for (const [name, value] of Object.entries(type.values))
          assert.equal((theirs as protobuf.Enum).values[name], value, `${type.fullName}.${name}`);
        continue;
      }
      for (const field of type.fieldsArray) {
        const other: protobuf.Field | undefined = (theirs as protobuf.Type).fields[field.name];
        const where: string = `${type.fullName}.${field.name}`;
        if (where in NEWER_THAN_PUBLISHED && !other) {
          assert.equal(field.id, NEWER_THAN_PUBLISHED[where], `${where}: number`);
          continue;
        }
        assert.ok(other, `${where} is not in Envoy's ${type.fullName}`);
        assert.equal(field.id, other.id, `${where}: number`);
        assert.equal(field.resolvedType?.fullName ?? field.type, other.resolvedType?.fullName ?? other.type, `${where}: type`);
        assert.equal(field.repeated, other.repeated, `${where}: repeated`);
        assert.equal(field.map, other.map, `${where}: map`);
        if (field instanceof protobuf.MapField)
          assert.equal(field.keyType, (other as unknown as protobuf.MapField).keyType, `${where}: key`);
        assert.equal(field.partOf?.name, other.partOf?.name, `${where}: oneof`);
        fields += 1;
      }
    }
    assert.ok(fields > 40, `${fields} fields compared`);
  });

  it('the service is Envoy’s: same method, request and response', () => {
    const method = (root: protobuf.Root) => root.lookupService('envoy.service.auth.v3.Authorization').methods.Check!;
    assert.equal(method(ours).resolvedRequestType?.fullName, method(envoys).resolvedRequestType?.fullName);
    assert.equal(method(ours).resolvedResponseType?.fullName, method(envoys).resolvedResponseType?.fullName);
  });
});
