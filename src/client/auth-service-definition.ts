/** gatehouse.v1.AuthService as a grpc-js service definition, loaded from the shipped proto once per process. */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { AUTH_SERVICE_NAME, loadGatehouseProto } from '../contract/proto.js';

let definition: ServiceDefinition | undefined;

export function authServiceDefinition(): ServiceDefinition {
  definition ??= loadGatehouseProto()[AUTH_SERVICE_NAME] as ServiceDefinition;
  return definition;
}
