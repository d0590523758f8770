/**
 * The backend seam of the device agent: where the service worker gets its `UsbFnPort` from.
 *
 * A backend is a **module** (a file URL) exporting {@link CreateAgentBackend} as `createAgentBackend`. The
 * worker imports it by URL, so a backend can live outside device-side/ (the `sim` backend sits in the harness
 * layer and builds the simulator; device-side may not import it) and the agent's control process never
 * loads a backend (nor koffi) itself. The CLI fills an {@link AgentBackendRegistry}: `{ win32: <module> }`
 * plus whatever the harness registers.
 */
import type { Static } from '@sinclair/typebox';
import type { UsbFnPort } from '../usbfn-port.js';
import type { Health, SessionWorld } from './protocol/index.js';

/** Backend name → module URL (`file:` URL string) exporting `createAgentBackend`. */
export type AgentBackendRegistry = Readonly<Record<string, string>>;

/** The names a backend may report (health.backend). */
export type AgentBackendName = Health['backend'];

/** What the worker passes to `createAgentBackend`. */
export interface AgentBackendOptions {
  /** The function's InterfaceGUID (USBFN registry). Default {@link USBFN_HIL_TEST_INTERFACE_GUID}. */
  readonly interfaceClassGuid: string;
  /** Backend-specific settings (JSON data from the agent's options). */
  readonly settings: Readonly<Record<string, unknown>>;
}

/** The port one session runs on. */
export interface AgentBackendSession {
  readonly port: UsbFnPort;
  readonly interfaceClassGuid: string;
  /** Releases what the session needed (the sim backend's world); the win32 port stays open. */
  close(): Promise<void>;
}

/** Whether the function's interface is present (health.usbfn). */
export interface UsbfnPresence {
  readonly interfaceGuid: string;
  readonly present: boolean;
  readonly symbolicLink: string | null;
  readonly problem?: string | undefined;
}

/** The session's world as the backend sees it. */
export interface AgentBackendSessionArgs {
  readonly name: string;
  readonly seed: number;
  readonly world: Static<typeof SessionWorld>;
  /** Writes to the session's device event log (e.g. that a world option does not apply to this backend). */
  readonly log: (kind: string, detail: Record<string, unknown>) => void;
}

/** A backend, created once per worker. */
export interface AgentBackend {
  readonly name: AgentBackendName;
  /** The port for a new session. @throws HarnessError when the backend cannot give one. */
  openSession(args: AgentBackendSessionArgs): Promise<AgentBackendSession>;
  /** CM_Get_Device_Interface_List for the function's InterfaceGUID (through the port's `listInterfaces`). */
  probe(): Promise<UsbfnPresence>;
  close(): Promise<void>;
}

/** The export every backend module has, named `createAgentBackend`. */
export type CreateAgentBackend = (options: AgentBackendOptions) => Promise<AgentBackend>;
