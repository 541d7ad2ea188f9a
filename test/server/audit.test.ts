// The audit log as written: one JSON line (logger name "audit") per decision with who, what, the outcome and
// its latency, for allowed, denied and cached decisions; and no line anywhere holds a token or a piece of one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CLIENT_ID, DEFAULT_OBJECT_ID, startEntraServer, type EntraServer } from '../helpers/entra-server.js';
import { segmentsOf, startTestGatehouse, type AuditLine, type TestGatehouse } from '../helpers/gatehouse.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';

const API = 'https://api.gatehouse.test';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ENTRA_AUD = 'api://orders';
const GET = '/orders.v1.Orders/GetOrder';
const FIELDS = [
  'request_id',
  'door',
  'issuer',
  'tenant',
  'subject',
  'object_id',
  'client_id',
  'action',
  'allowed',
  'reason',
  'rule',
  'cached',
  'latency_ms',
] as const;

describe('audit log', () => {
  let op: TestOidcProvider;
  let entra: EntraServer;
  let gh: TestGatehouse;
  /** Every token any test sent, valid or not: none may appear in any line. */
  const used: string[] = [];
  const track = (token: string) => (used.push(token), token);

  /** The one audit line of a request id, with every field the issue names. */
  function auditOf(requestId: string): AuditLine {
    const lines = gh.logs.audit(requestId);
    assert.equal(lines.length, 1, `one audit line for ${requestId}`);
    const line = lines[0]!;
    for (const field of FIELDS) assert.ok(field in line, `audit line has ${field}`);
    assert.equal(typeof line.latency_ms, 'number');
    assert.ok(line.latency_ms >= 0);
    assert.ok(!Number.isNaN(Date.parse(String((line as unknown as Record<string, unknown>).time))), 'audit line has a time');
    return line;
  }

  before(async () => {
    [op, entra] = await Promise.all([
      startOidcProvider({ clients: [{ client_id: 'reader', client_secret: 's', roles: ['Orders.Read'] }] }),
      startEntraServer(),
    ]);
    gh = await startTestGatehouse(
      {
        issuers: [
          { id: 'partner', type: 'oidc', issuer: op.issuer, audiences: [API] },
          { id: 'contoso', type: 'entra', tenant: TENANT, authority: entra.base, audiences: [ENTRA_AUD] },
        ],
        rules: [
          { id: 'health', actions: ['/grpc.health.v1.Health/*'], public: true },
          { id: 'orders-read', actions: ['/orders.v1.Orders/Get*'], any_roles: ['Orders.Read'] },
        ],
      },
      { level: 'trace' },
    );
  });
  after(async () => {
    await gh?.close();
    await Promise.all([op?.close(), entra?.close()]);
  });

  it('an allowed decision: who, what, the rule; then the same call again is audited as cached', async () => {
    const token = track(await op.token({ clientId: 'reader', resource: API }));
    await gh.client.authorize(token, GET, { requestId: 'audit-allow-1' });
    assert.deepEqual(pick(auditOf('audit-allow-1')), {
      request_id: 'audit-allow-1',
      door: 'grpc',
      issuer: 'partner',
      tenant: '',
      subject: 'reader',
      object_id: '',
      client_id: 'reader',
      action: GET,
      allowed: true,
      reason: '',
      rule: 'orders-read',
      cached: false,
    });
    await gh.client.authorize(token, GET, { requestId: 'audit-allow-2' });
    assert.deepEqual(pick(auditOf('audit-allow-2')), { ...pick(auditOf('audit-allow-1')), request_id: 'audit-allow-2', cached: true });
  });

  it('a policy denial names the reason and rule, with the Entra principal', async () => {
    const token = track(await entra.mint({ version: 2, tid: TENANT, aud: ENTRA_AUD, claims: { roles: ['Orders.Write'] } }));
    await gh.client.authorize(`Bearer ${token}`, GET, { requestId: 'audit-deny' });
    assert.deepEqual(pick(auditOf('audit-deny')), {
      request_id: 'audit-deny',
      door: 'grpc',
      issuer: 'contoso',
      tenant: TENANT,
      subject: DEFAULT_OBJECT_ID,
      object_id: DEFAULT_OBJECT_ID,
      client_id: DEFAULT_CLIENT_ID,
      action: GET,
      allowed: false,
      reason: 'MISSING_ROLE',
      rule: 'orders-read',
      cached: false,
    });
    await gh.client.authorize(token, GET, { requestId: 'audit-deny-cached' });
    const cached = auditOf('audit-deny-cached');
    assert.equal(cached.cached, true);
    assert.equal(cached.reason, 'MISSING_ROLE');
  });

  it('a refused token and a public rule are audited too; a generated request id is the one returned', async () => {
    const wrongAudience = track(await op.token({ clientId: 'reader', resource: 'https://other.test' }));
    const { metadata } = await gh.client.authorize(wrongAudience, GET);
    const requestId = String(metadata.get('x-request-id')[0]);
    const refused = auditOf(requestId);
    assert.equal(refused.allowed, false);
    assert.equal(refused.reason, 'AUDIENCE_MISMATCH');
    assert.equal(refused.rule, '');
    assert.equal(refused.subject, '');
    assert.equal(refused.issuer, 'partner', 'routed to its issuer before it was refused');

    await gh.client.authorize('', '/grpc.health.v1.Health/Check', { requestId: 'audit-public' });
    assert.deepEqual([auditOf('audit-public').allowed, auditOf('audit-public').rule, auditOf('audit-public').reason], [true, 'health', '']);
  });

  it('a batch writes one audit line per action; Verify writes no audit line, but a log line tying id to subject', async () => {
    const token = track(await op.token({ clientId: 'reader', resource: API }));
    await gh.client.authorizeBatch(token, [GET, '/orders.v1.Orders/GetInvoice', 'billing:pay'], { requestId: 'audit-batch' });
    const lines = gh.logs.audit('audit-batch');
    assert.deepEqual(
      lines.map((l) => [l.action, l.allowed, l.reason]),
      [
        [GET, true, ''],
        ['/orders.v1.Orders/GetInvoice', true, ''],
        ['billing:pay', false, 'NO_MATCHING_RULE'],
      ],
    );
    await gh.client.verify(token, { requestId: 'audit-verify' });
    assert.equal(gh.logs.audit('audit-verify').length, 0);
    const verifyLines = gh.logs.parsed().filter((l) => l.request_id === 'audit-verify');
    assert.deepEqual(
      verifyLines.map((l) => [l.msg, l.subject, l.issuer, l.valid]),
      [['verify', 'reader', 'partner', true]],
    );
  });

  it('no line written anywhere contains a token or any of its three segments', async () => {
    // More tokens down every path that logs: valid, forged, expired, untrusted, as authorization metadata too.
    const valid = track(await op.token({ clientId: 'reader', resource: API }));
    const [h, p, s] = segmentsOf(valid) as [string, string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), roles: ['x'] }));
    const forged = track([h, forgedPayload.toString('base64url'), s].join('.'));
    const expired = track(
      await entra.mint({
        version: 1,
        tid: TENANT,
        aud: ENTRA_AUD,
        now: Math.floor(Date.now() / 1000) - 7200,
        claims: { roles: ['Orders.Read'] },
      }),
    );
    const untrusted = track(await entra.mint({ version: 2, tid: '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', aud: ENTRA_AUD }));
    for (const token of [valid, forged, expired, untrusted]) {
      const metadata = { authorization: `Bearer ${token}` };
      await gh.client.verify(token, { metadata });
      await gh.client.authorize(token, GET, { metadata });
      await gh.client.authorizeBatch(token, [GET, 'billing:pay'], { metadata });
    }
    await gh.shutdown();

    const written = gh.logs.raw;
    assert.ok(written.length > 20, `lines written: ${written.length}`);
    assert.ok(
      gh.logs.parsed().some((line) => line.level === 'debug'),
      'debug lines were written and searched',
    );
    for (const token of used) {
      for (const piece of [token, ...segmentsOf(token)]) {
        const leak = written.find((line) => line.includes(piece));
        assert.equal(leak, undefined, `a log line contains a token segment: ${leak?.slice(0, 200)}`);
      }
    }
  });
});

/** The audit fields compared exactly (latency varies). */
function pick(line: AuditLine): Omit<AuditLine, 'name' | 'latency_ms'> {
  const { request_id, door, issuer, tenant, subject, object_id, client_id, action, allowed, reason, rule, cached } = line;
  return { request_id, door, issuer, tenant, subject, object_id, client_id, action, allowed, reason, rule, cached };
}
