/**
 * The msw server of the harness's lab tests, msw style: the fake agent's handlers are the defaults of each
 * test, a test prepends misbehaviour with `server.use()`, and `resetHandlers()` drops it after the test.
 * Requests to 127.0.0.1 and `.invalid` hosts pass through to the real network, so "connection refused" and
 * "no such host" are tested for real; anything else unhandled is an error.
 */
import { setupServer, type SetupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { FakeAgent, type FakeAgentOptions } from './fake-agent.js';

export interface AgentTestServer {
  readonly server: SetupServer;
  /** This test's fake agent (fresh for every test). */
  fake(): FakeAgent;
}

/** Registers the msw lifecycle in the calling test file; `options()` configures each test's fresh fake. */
export function useFakeAgentServer(options: () => FakeAgentOptions = () => ({})): AgentTestServer {
  const server = setupServer();
  let current: FakeAgent | undefined;
  beforeAll(() =>
    server.listen({
      onUnhandledRequest(request, print) {
        const host = new URL(request.url).hostname;
        if (host === '127.0.0.1' || host.endsWith('.invalid')) return;
        print.error();
      },
    }),
  );
  beforeEach(() => {
    current = new FakeAgent(options());
    server.resetHandlers(...current.handlers());
  });
  afterEach(() => {
    server.resetHandlers();
    // The fake must never have answered outside the protocol.
    expect(current?.violations ?? []).toEqual([]);
  });
  afterAll(() => server.close());
  return {
    server,
    fake: () => {
      if (current === undefined) throw new Error('the fake agent exists only inside a test');
      return current;
    },
  };
}
