/**
 * The `win32` backend of the device agent: one `Win32UsbFnPort` (koffi → kernel32, cfgmgr32) for the
 * worker's lifetime; every session's service runs over it. Loaded only inside the service worker, so the
 * agent's control process never loads koffi and survives a wedged native call.
 */
import { normalizeGuid } from '../../abi/index.js';
import { listInterfaces } from '../../list-interfaces.js';
import { Win32UsbFnPort } from '../../win32/index.js';
import type { AgentBackend, AgentBackendOptions, CreateAgentBackend, UsbfnPresence } from '../agent-backend.js';

/**
 * @throws UsageError WIN32_UNAVAILABLE off Windows, KOFFI_UNAVAILABLE without koffi's native part,
 * WIN32_X64_ONLY on a 32-bit node (the worker reports it; health shows it as the backend's problem).
 */
export const createAgentBackend: CreateAgentBackend = async (options: AgentBackendOptions): Promise<AgentBackend> => {
  const port = await Win32UsbFnPort.create();
  const guid = normalizeGuid(options.interfaceClassGuid);
  return {
    name: 'win32',
    async openSession(args) {
      if (args.world.speed !== undefined) {
        args.log('worldOptionIgnored', { option: 'speed', value: args.world.speed, why: "a real bench runs at the speed its cable and host port negotiate (a bench property)" });
      }
      return { port, interfaceClassGuid: guid, close: async () => undefined };
    },
    async probe(): Promise<UsbfnPresence> {
      const links = await listInterfaces(port, { interfaceClassGuid: guid });
      return { interfaceGuid: guid, present: links.length > 0, symbolicLink: links[0] ?? null };
    },
    async close() {
      await port.close();
    },
  };
};
