/**
 * The messages between the agent's control process and its service worker (Node IPC, JSON). Internal to
 * the agent: the harness never sees them. Errors cross as `toJSON()` data and are rebuilt on arrival.
 */
import type { Static } from '@sinclair/typebox';
import type { HarnessErrorJSON } from '../../../core/index.js';
import type { UsbFnDriverSettings } from '../../driver-settings.js';
import type { AgentBackendName, UsbfnPresence } from '../agent-backend.js';
import type { DeviceLogEntryJson, DeviceStatusJson, SessionWorld, WaitRequest } from '../protocol/index.js';

/** The built-in test functions a session may run (`SessionWorld.fn`). */
export type AgentFunctionKind = Static<typeof SessionWorld>['fn'];

/** Label of each fault kind in the report (docs/agent-protocol.md). */
export const FAULT_LABEL = {
  failIoctl: 'injected at the seam',
  dropNotification: 'injected at the seam',
  closeHandle: 'real',
  restartService: 'real',
  pnp: 'real PnP',
  crashWorker: 'self-test',
  hangWorker: 'self-test',
} as const;

/** What the worker is started with. */
export interface WorkerInit {
  /** `file:` URL of the backend module (exports `createAgentBackend`). */
  readonly backendModule: string;
  readonly interfaceClassGuid: string;
  readonly settings: Readonly<Record<string, unknown>>;
  /** Bound of the device trace of a session opened with `trace: true` (records). */
  readonly traceLimit: number;
  /** The driver settings every session's service runs with (`--driver-settings`). Default: the defaults. */
  readonly driverSettings?: UsbFnDriverSettings | undefined;
}

/** A fault the worker carries out (the control process checked it is allowed). */
export type WorkerFault =
  | { readonly kind: 'failIoctl'; readonly faultId: string; readonly ioctl: string; readonly win32: number; readonly nth?: number | undefined; readonly count?: number | undefined; readonly pipe?: number | undefined }
  | { readonly kind: 'dropNotification'; readonly faultId: string; readonly action: string; readonly count?: number | undefined }
  | { readonly kind: 'closeHandle' | 'restartService' | 'crashWorker' | 'hangWorker'; readonly faultId: string };

/** One command to the worker and, in {@link WorkerResults}, its answer. */
export type WorkerCommand =
  | { readonly op: 'openSession'; readonly sessionId: string; readonly name: string; readonly seed: number; readonly world: Static<typeof SessionWorld> }
  | { readonly op: 'status'; readonly sessionId: string }
  | { readonly op: 'startService' | 'stopService'; readonly sessionId: string; readonly timeoutMs: number }
  | { readonly op: 'wait'; readonly sessionId: string; readonly until: WaitRequest['until']; readonly timeoutMs: number }
  | { readonly op: 'fault'; readonly sessionId: string; readonly fault: WorkerFault }
  | { readonly op: 'trace'; readonly sessionId: string }
  | { readonly op: 'closeSession'; readonly sessionId: string }
  | { readonly op: 'probe' };

export type WorkerOp = WorkerCommand['op'];

export interface WorkerResults {
  readonly openSession: { readonly functionName: string; readonly status: DeviceStatusJson };
  readonly status: { readonly status: DeviceStatusJson };
  readonly startService: { readonly status: DeviceStatusJson };
  readonly stopService: { readonly status: DeviceStatusJson };
  readonly wait: { readonly status: DeviceStatusJson; readonly atMs: number };
  readonly fault: { readonly label: string };
  readonly trace: { readonly lines: readonly string[]; readonly dropped: number };
  readonly closeSession: { readonly closed: true };
  readonly probe: UsbfnPresence;
}

/** A device log entry before the control process numbers it. */
export type WorkerLogEntry = Omit<DeviceLogEntryJson, 'seq'>;

/** Control process → worker. */
export type ToWorker =
  | { readonly type: 'init'; readonly init: WorkerInit }
  | { readonly type: 'request'; readonly id: number; readonly command: WorkerCommand }
  | { readonly type: 'cancel'; readonly id: number }
  | { readonly type: 'ping'; readonly id: number };

/** Worker → control process. */
export type FromWorker =
  | { readonly type: 'ready'; readonly pid: number; readonly backend: AgentBackendName }
  | { readonly type: 'fatal'; readonly error: HarnessErrorJSON }
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly error: HarnessErrorJSON }
  | { readonly type: 'log'; readonly sessionId: string; readonly entry: WorkerLogEntry }
  | { readonly type: 'pong'; readonly id: number };
