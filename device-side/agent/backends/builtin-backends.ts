/**
 * The backends device-side/ provides, by module URL (the worker imports them; the control process never
 * does). The harness adds its own (`sim`) to the registry it passes to the agent.
 */
import type { AgentBackendRegistry } from '../agent-backend.js';
import { siblingModule } from '../module-url.js';

/** `{ win32 }`: the real device, `Win32UsbFnPort` over GenericUSBFn.sys and cfgmgr32. */
export function builtinAgentBackends(): AgentBackendRegistry {
  return { win32: siblingModule(import.meta.url, './win32-backend') };
}
