/**
 * The client's decoding against random answers generated from the protocol's own OpenAPI document
 * (`@mswjs/source` `fromOpenApi`, seeded): whatever a route may answer, the client returns a value that
 * conforms or throws a typed HarnessError — never a TypeError, never an unvalidated body.
 */
import { faker } from '@faker-js/faker';
import { fromOpenApi } from '@mswjs/source/open-api';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HarnessError } from '../../core/index.js';
import { AGENT_ROUTES, agentOpenApiDocument } from '../../device-side/index.js';
import { AgentClient } from './agent-client.js';
import { AGENT_OPERATIONS, type AgentOperation } from './route-schemas.js';

const URL_ = 'http://fuzz.test:7311';
const SEEDS = 12;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The document as the generator can read it: TypeBox's recursive error schema refers to itself by `$id`,
 * which the generator's dereferencer cannot follow, so the recursion is cut to the plain `{ name, message }`
 * cause the schema also allows; and the server is this test's host.
 */
function fuzzDocument(): Json {
  const cut = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(cut);
    if (v !== null && typeof v === 'object') {
      if (typeof v['$ref'] === 'string' && !v['$ref'].startsWith('#')) {
        return { type: 'object', properties: { name: { type: 'string' }, message: { type: 'string' } }, required: ['name', 'message'] };
      }
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cut(x)]));
    }
    return v;
  };
  return { ...(cut(agentOpenApiDocument() as Json) as Record<string, Json>), servers: [{ url: URL_ }] };
}

let status = 200;
/** fromOpenApi picks the answer's status from the `response` query parameter. */
const statusFetch: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  url.searchParams.set('response', String(status));
  return fetch(url, init);
};
const client = new AgentClient({ url: URL_, token: 't', fetch: statusFetch, retries: 0 });

const calls: Record<AgentOperation, () => Promise<unknown>> = {
  getHealth: () => client.health(),
  getSchema: () => client.schema(),
  acquireLease: () => client.acquireLease({ holder: 'fuzz', ttlMs: 10_000 }),
  renewLease: () => client.renewLease('L1', 10_000),
  releaseLease: () => client.releaseLease('L1'),
  openSession: () => client.openSession({ leaseId: 'L1', name: 'fuzz', seed: 1, world: { fn: 'loopback' } }),
  getSession: () => client.getSession('S1'),
  startService: () => client.startService('S1'),
  stopService: () => client.stopService('S1'),
  waitFor: () => client.waitFor('S1', { until: 'configured', timeoutMs: 100 }),
  streamEvents: async () => {
    const out: unknown[] = [];
    for await (const item of client.events('S1', { follow: false })) out.push(item);
    return out;
  },
  getLog: () => client.log('S1'),
  getTrace: () => client.trace('S1'),
  injectFault: () => client.injectFault('S1', { kind: 'closeHandle' }),
  closeSession: () => client.closeSession('S1'),
  restartWorker: () => client.restartWorker(),
};

const server = setupServer();
beforeAll(async () => {
  server.use(...(await fromOpenApi(fuzzDocument() as never)));
  server.listen({ onUnhandledRequest: 'error' });
});
afterAll(() => server.close());

describe('AgentClient against schema-generated answers', () => {
  for (const op of AGENT_OPERATIONS) {
    const route = AGENT_ROUTES.find((r) => r.operationId === op)!;
    const statuses = Object.keys(route.responses).map(Number);
    it(`${op}: every answer (${statuses.join(', ')}) decodes or is a typed error`, async () => {
      let decoded = 0;
      for (const s of statuses) {
        for (let seed = 1; seed <= SEEDS; seed++) {
          faker.seed(seed * 1_000 + s);
          status = s;
          const outcome = await calls[op]().then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          );
          if ('error' in outcome) {
            expect(outcome.error, `${op} ${s} seed ${seed}`).toBeInstanceOf(HarnessError);
            // A success status never throws anything but a protocol complaint or (lease) a busy bench.
            if (s < 300) expect((outcome.error as HarnessError).code, `${op} ${s} seed ${seed}`).toMatch(/^LAB_AGENT_(BAD_RESPONSE|BUSY)$/);
            expect((outcome.error as Error).message).toMatch(/^\[/);
          } else {
            expect(s).toBeLessThan(300);
            decoded++;
          }
        }
      }
      // The generator produces conforming bodies for plain JSON routes; streams of random strings never conform.
      if (route.responses[statuses.find((x) => x < 300)!] !== 'ndjson') expect(decoded).toBeGreaterThan(0);
    });
  }
});
