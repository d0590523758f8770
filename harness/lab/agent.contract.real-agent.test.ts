/**
 * The device agent contract against the real agent: its HTTP server listening on 127.0.0.1 (an ephemeral
 * port, real sockets) and the real device-side service over the agent's `fake` backend (a FakeUsbFnPort
 * scripted as an enumerating device). Two agents, one per worker mode: one whose service worker is a real
 * child process (`--worker process`, the default) and whose device a "host" configures (bus events attach,
 * reset, configured), one with the worker in-process (as under Wine) whose device never sees a host. The
 * same suite runs against the msw fake (agent.contract.test.ts) and under Windows node in Wine
 * (.ci/wine/agent.contract.wine.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { loadAgentServer } from '../../device-side/index.js';
import { AgentClient } from './agent-client.js';
import { describeAgentContract } from './agent.contract.js';

/** The agent's `fake` backend, by module URL as backends are given (the worker imports it, never this file). */
const FAKE_AGENT_BACKEND_MODULE = new URL('../../device-side/agent/testing/fake-agent-backend.ts', import.meta.url).href;
const TOKEN = randomBytes(16).toString('hex');

type Started = Awaited<ReturnType<Awaited<ReturnType<typeof loadAgentServer>>['startAgentServer']>>;

/** Starts a real agent in beforeAll (closed in afterAll); `url()` is its address once started. */
function realAgent(mode: 'process' | 'in-process', settings: { configure: boolean }): { url: () => string } {
  let started: Started | undefined;
  beforeAll(async () => {
    const { startAgentServer } = await loadAgentServer();
    started = await startAgentServer({
      token: TOKEN,
      listen: { host: '127.0.0.1', port: 0 },
      backend: { name: 'fake', module: FAKE_AGENT_BACKEND_MODULE, settings },
      worker: { mode },
      bench: { id: 'contract-real-agent', tags: [] },
      logStream: false,
    });
  });
  afterAll(async () => {
    await started?.close();
  });
  return {
    url: () => {
      if (started === undefined) throw new Error('the real agent did not start (see the beforeAll error)');
      return started.url;
    },
  };
}

const clientOf =
  (agent: { url: () => string }) =>
  (token?: string | null): AgentClient =>
    new AgentClient({ url: agent.url(), token: token === undefined ? TOKEN : (token ?? undefined), retryDelayMs: 0 });

describe('real agent, worker process, host connected', () => {
  const agent = realAgent('process', { configure: true });
  describeAgentContract('real agent on 127.0.0.1 (fake backend, worker process), host connected', clientOf(agent), { hostConnected: true, waitMs: 5_000 });
});

describe('real agent, worker in-process, no host', () => {
  const agent = realAgent('in-process', { configure: false });
  describeAgentContract('real agent on 127.0.0.1 (fake backend, worker in-process), no host', clientOf(agent), { hostConnected: false, waitMs: 5_000 });
});
