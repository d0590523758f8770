/**
 * Test doubles of the lab world (harness side): the msw fake device agent, its per-test msw server, and a
 * manual clock for deadlines, back-off, lease renewal and stall detection.
 */
export { FakeAgent, type FakeAgentOptions, type FakeFaultKind, type RecordedRequest } from './fake-agent.js';
export { ManualClock, settle, until } from './manual-clock.js';
export { useFakeAgentServer, type AgentTestServer } from './msw-agent-server.js';
export { simBenchConfig, startSimBenchHost, type SimBenchHost } from './sim-bench-host.js';
