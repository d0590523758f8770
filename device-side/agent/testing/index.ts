/** Test doubles and checks of the device agent (for tests only; never imported by production code). */
export * from './agent-response-check.js';
export * from './fake-pnp-runner.js';
export * from './manual-clock.js';
export { FAKE_INSTANCE_ID, fakeSymbolicLink } from './fake-agent-backend.js';
import { siblingModule } from '../module-url.js';

/** Module URL of the `fake` backend (a scripted device over FakeUsbFnPort) for the agent's options. */
export const FAKE_AGENT_BACKEND_MODULE = siblingModule(import.meta.url, './fake-agent-backend');
export * from './hostile-requests.js';
