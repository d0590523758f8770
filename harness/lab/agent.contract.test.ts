/**
 * The device agent contract against the msw fake agent, with a host connected and without one (the real
 * agent's runs: agent.contract.real-agent.test.ts on 127.0.0.1, and the Wine tier).
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { AgentClient } from './agent-client.js';
import { describeAgentContract } from './agent.contract.js';
import { useFakeAgentServer } from './testing/index.js';

const URL_ = 'http://agent.test:7311';
let hostConnected = true;
useFakeAgentServer(() => ({ hostConnected }));

const makeClient = (token?: string | null): AgentClient =>
  new AgentClient({ url: URL_, token: token === undefined ? 'fake-token' : (token ?? undefined), retryDelayMs: 0 });

describeAgentContract('msw fake agent, host connected', makeClient, { hostConnected: true, waitMs: 2_000 });

describe('without a host', () => {
  beforeAll(() => {
    hostConnected = false;
  });
  afterAll(() => {
    hostConnected = true;
  });
  describeAgentContract('msw fake agent, no host', makeClient, { hostConnected: false, waitMs: 2_000 });
});
