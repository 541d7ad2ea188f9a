/**
 * The transport baselines, started from copies of real gatehouse answers: ask the gatehouse child once on each door,
 * then serve those answers canned (grpc-js AuthService and Envoy Check) and the allow's headers from a bare node:http.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, loadPackageDefinition, makeClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { ENVOY_AUTHORIZATION_SERVICE, loadEnvoyAuthProto, loadGatehouseProto } from '../../src/contract/proto.js';
import { BATCH_ACTIONS, GRPC_ACTION, HTTP_PATH, REPO_ROOT, type GatehouseChild } from '../load/gatehouse-child.js';
import { productionNodeFlags } from '../load/runtime.js';
import { portLine, spawnServer, type SpawnedServer } from '../load/server-process.js';
import { splitAddress } from '../load/worker-calls.js';

export interface Baselines {
  /** Canned AuthService and Envoy Check on one port. */
  readonly canned: SpawnedServer<number> & { readonly address: string };
  /** node:http answering 200 with the allow's headers. */
  readonly bareHttp: SpawnedServer<number> & { readonly address: string };
  stop(): Promise<void>;
}

type Unary = (request: unknown, callback: (err: Error | null, response: unknown) => void) => void;

function ask(client: Record<string, Unary>, method: string, request: unknown): Promise<any> {
  return new Promise((resolve, reject) => client[method]!(request, (err, response) => (err ? reject(err) : resolve(response))));
}

/** gatehouse's answers to one allowed call on every door, as the canned servers will send them. */
export async function captureAnswers(gatehouse: GatehouseChild, token: string) {
  const AuthService = (loadPackageDefinition(loadGatehouseProto()) as any).gatehouse.v1.AuthService;
  const Envoy = makeClientConstructor(loadEnvoyAuthProto()[ENVOY_AUTHORIZATION_SERVICE] as ServiceDefinition, ENVOY_AUTHORIZATION_SERVICE);
  const auth = new AuthService(gatehouse.grpcAddress, credentials.createInsecure());
  const envoy = new Envoy(gatehouse.grpcAddress, credentials.createInsecure()) as unknown as Record<string, Unary> & { close(): void };
  const headers = { ':authority': 'orders.example.test', ':method': 'GET', ':path': HTTP_PATH, authorization: `Bearer ${token}` };
  const answers = {
    authorize: await ask(auth, 'Authorize', { token, action: GRPC_ACTION }),
    authorizeBatch: await ask(auth, 'AuthorizeBatch', { token, actions: BATCH_ACTIONS }),
    verify: await ask(auth, 'Verify', { token }),
    check: await ask(envoy, 'Check', {
      attributes: { request: { http: { method: 'GET', path: HTTP_PATH, host: 'orders.example.test', headers } } },
    }),
  };
  auth.close();
  envoy.close();
  if (!answers.authorize.allowed || answers.check.status?.code !== 0)
    throw new Error(`the bench token is not allowed: ${JSON.stringify(answers)}`);
  const [host, port] = splitAddress(gatehouse.httpAddress);
  const httpHeaders = await new Promise<Record<string, string>>((resolve, reject) =>
    get(
      {
        host,
        port,
        path: '/v1/authz',
        headers: { authorization: `Bearer ${token}`, 'x-original-method': 'GET', 'x-original-uri': HTTP_PATH },
      },
      (res) => {
        res.resume();
        if (res.statusCode !== 200) return reject(new Error(`/v1/authz answered ${res.statusCode}`));
        const kept: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(k) && typeof v === 'string')
            kept[k] = v;
        }
        resolve(kept);
      },
    ).on('error', reject),
  );
  return { answers, httpHeaders };
}

export async function startBaselines(gatehouse: GatehouseChild, token: string): Promise<Baselines> {
  const { answers, httpHeaders } = await captureAnswers(gatehouse, token);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-canned-'));
  writeFileSync(join(dir, 'canned.json'), JSON.stringify(answers));
  writeFileSync(join(dir, 'headers.json'), JSON.stringify(httpHeaders));
  const server = (script: string, file: string) =>
    // The image's node flags on both sides of every pair: its bounded old space makes V8 mark far more often (and
    // scavenge slower meanwhile) for a canned server as for gatehouse, so a baseline without them would measure V8's
    // heap settings, not gatehouse's work.
    spawnServer([...productionNodeFlags(), '--import', 'tsx', `bench/load/servers/${script}`, join(dir, file)], portLine, {
      cwd: REPO_ROOT,
    }).then((s) => Object.assign(s, { address: `127.0.0.1:${s.ready}` }));
  const [canned, bareHttp] = await Promise.all([server('canned.ts', 'canned.json'), server('bare-http.ts', 'headers.json')]);
  return {
    canned,
    bareHttp,
    stop: async () => {
      await Promise.all([canned.stop(), bareHttp.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
