/** Loads the public contract (proto/gatehouse/v1/gatehouse.proto) once, for the server and the client alike. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

export const AUTH_SERVICE_NAME = 'gatehouse.v1.AuthService';

/** The proto folder ships beside src/ and dist/src/ alike: look upwards from this file. */
export function protoRoot(): string {
  for (const up of ['../../proto/', '../../../proto/']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(`${dir}gatehouse/v1/gatehouse.proto`)) return dir;
  }
  throw new Error('proto/gatehouse/v1/gatehouse.proto not found beside the package');
}

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export function loadGatehouseProto(): protoLoader.PackageDefinition {
  const root = protoRoot();
  return protoLoader.loadSync('gatehouse/v1/gatehouse.proto', { ...LOADER_OPTIONS, includeDirs: [root] });
}

export const ENVOY_AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';

/** Envoy's ext_authz v3 service (proto/envoy/, a trimmed copy of Envoy's files with Envoy's wire format). */
export function loadEnvoyAuthProto(): protoLoader.PackageDefinition {
  return protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
}

/**
 * The contract as protobufjs types (the library proto-loader encodes with), for the encoders that prepare part of a
 * message's bytes once and reuse them (src/server/prepared-*.ts). Same files, same wire format.
 */
export function loadGatehouseTypes(): protobuf.Root {
  return loadTypes('gatehouse/v1/gatehouse.proto');
}

/** Envoy's ext_authz messages as protobufjs types, as {@link loadGatehouseTypes}. */
export function loadEnvoyAuthTypes(): protobuf.Root {
  return loadTypes('envoy/service/auth/v3/external_auth.proto');
}

function loadTypes(file: string): protobuf.Root {
  const dir = protoRoot();
  const root = new protobuf.Root();
  // google/protobuf/*.proto are protobufjs's bundled copies, as proto-loader uses them.
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : `${dir}${target}`);
  root.loadSync(file);
  root.resolveAll();
  return root;
}
