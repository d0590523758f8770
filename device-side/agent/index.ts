/**
 * The device agent (`usbfn-hil agent serve`): the process on the Windows device through which the harness
 * reaches the device side in lab (docs/agent-protocol.md). Its protocol is shared with the harness; the
 * server (fastify) and the worker load lazily, through {@link loadAgentServer}.
 */
export * from './protocol/index.js';
export { AgentError, agentErrorFromJSON, errorEnvelope } from './agent-error.js';
export {
  type AgentBackend,
  type AgentBackendName,
  type AgentBackendOptions,
  type AgentBackendRegistry,
  type AgentBackendSession,
  type AgentBackendSessionArgs,
  type CreateAgentBackend,
  type UsbfnPresence,
} from './agent-backend.js';
export { builtinAgentBackends } from './backends/index.js';
export { siblingModule } from './module-url.js';
export * from './faults/index.js';
export { renderUsbFnRegFile, USBFN_HIL_TEST_REG_COMMENT, USBFN_REGISTRY_ROOT, type UsbFnRegConfig } from './usbfn-reg-file.js';

/** The agent's server (fastify, the worker supervisor), loaded on first use. */
export function loadAgentServer(): Promise<typeof import('./server/index.js')> {
  return import('./server/index.js');
}
