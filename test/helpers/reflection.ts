/** Lists a server's services through grpc.reflection.v1: a raw bidi call, as grpcurl makes it. */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { credentials, makeClientConstructor, type Client, type ClientDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
}
interface ReflectionClient extends Client {
  ServerReflectionInfo(): ClientDuplexStream<{ listServices: string }, ReflectionResponse>;
}

export async function listServices(address: string): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const protoDir = join(require.resolve('@grpc/reflection'), '../../proto');
  const definition = protoLoader.loadSync('grpc/reflection/v1/reflection.proto', { includeDirs: [protoDir] });
  const Reflection = makeClientConstructor(definition['grpc.reflection.v1.ServerReflection'] as ServiceDefinition, 'ServerReflection');
  const client = new Reflection(address, credentials.createInsecure()) as unknown as ReflectionClient;
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const call = client.ServerReflectionInfo();
      call.on('data', (msg: ReflectionResponse) => {
        resolve((msg.listServicesResponse?.service ?? []).map((s) => s.name));
        call.end();
      });
      call.on('error', reject);
      call.write({ listServices: '' });
    });
  } finally {
    client.close();
  }
}
