/**
 * One gRPC call sent as raw HTTP/2, for metadata a grpc-js client refuses to send (a tab inside a value):
 * the server must cope with whatever arrives on the wire.
 */
import { connect } from 'node:http2';

/**
 * Sends a unary request to `path` with `headers` (its message `message`, encoded; empty by default); resolves to the
 * grpc-status the server answered.
 */
export function rawGrpcCall(address: string, path: string, headers: Record<string, string>, message = Buffer.alloc(0)): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${address}`);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    let grpcStatus = '';
    const take = (h: Record<string, unknown>) => void (typeof h['grpc-status'] === 'string' && (grpcStatus = h['grpc-status']));
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('error', reject);
    stream.on('close', () => {
      session.close();
      resolve(grpcStatus);
    });
    stream.resume();
    // A message frame: not compressed, then the length and the message.
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.length, 1);
    stream.end(Buffer.concat([prefix, message]));
  });
}
