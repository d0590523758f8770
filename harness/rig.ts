/**
 * The rig: what a scenario runs against, chosen by configuration (the mode), never by scenario code.
 * `openRig(mode)` gives a {@link Rig}; each scenario opens a {@link Session} on it: a host, the device side,
 * a clock and a capture, plus simulator controls in `sim`.
 *
 * In `sim` every session is a fresh simulated world seeded from the scenario's seed, so scenarios are
 * independent and reproducible. In `lab` a session is the paired device and host PC, reset to a known state.
 */
import { UsageError, type Clock, type HarnessError, type UsbDeviceSpeed } from '../core/index.js';
import type { BusState, DeviceLogEntry, ServiceState } from '../device-side/index.js';
import type { HostAgent, UsbHost } from '../host-side/index.js';
import type { SimControls } from './world/index.js';
import type { TimelineItem } from './report/index.js';

/** The worlds: the simulator in-process, a real bench, or the lab code path over a simulated device (CI). */
export type Mode = 'sim' | 'lab' | 'lab-sim';

/** Built-in device functions a scenario can ask for. */
export type TestFunctionKind = 'loopback' | 'sourceSink';

/** How the world looks when a scenario starts. */
export interface WorldOptions {
  /** The device's function. Default loopback. */
  readonly fn?: TestFunctionKind | undefined;
  /** Fastest speed of the device and host port. Default high. */
  readonly speed?: UsbDeviceSpeed | undefined;
  /** The device's function devnode is present (sim: powered). Default true. */
  readonly powered?: boolean | undefined;
  /** The cable is plugged (sim: VBUS). Default true. */
  readonly attached?: boolean | undefined;
  /** The device-side service is started with the session. Default true. */
  readonly startService?: boolean | undefined;
  /** BUS_EVENT_NOTIFICATION requests the service keeps outstanding. Default 4. */
  readonly busEventDepth?: number | undefined;
}

/** The device side as scenarios see it: local in sim, reached through the device agent in lab. */
export interface DeviceSide {
  /** Name of the running function (`loopback`, `source-sink`). */
  readonly functionName: string;
  /** Service and bus state as the device side sees them. */
  status(): Promise<DeviceStatus>;
  /** The device-side event log (lifecycle, bus events, typed errors). */
  eventLog(): Promise<readonly DeviceLogEntry[]>;
  /** Waits until the host configured the device (transfers allowed). @throws TimeoutError, AbortedError */
  whenConfigured(options?: DeviceWaitOptions): Promise<void>;
  /** Waits until the service opened the interface and activated the bus. @throws TimeoutError, AbortedError */
  whenActive(options?: DeviceWaitOptions): Promise<void>;
  /** Waits until the service is waiting for an interface (after a removal). @throws TimeoutError, AbortedError */
  whenWaiting(options?: DeviceWaitOptions): Promise<void>;
  /** Starts the service (when the world was opened with `startService: false`). */
  startService(): Promise<void>;
  /** Stops the service (cancel I/O, unregister, close). */
  stopService(): Promise<void>;
}

/** Bound and cancellation of a device-side wait. */
export interface DeviceWaitOptions {
  /** Default: the world's own bound (10 s in sim). */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** How a session opens the function from the host. */
export interface AgentOptions {
  /** One deadline for finding, opening, claiming and configuring the function (default: the world's bound). */
  readonly timeoutMs?: number | undefined;
  /** Per-transfer timeout of the agent's operations (default 5000 ms). */
  readonly transferTimeoutMs?: number | undefined;
}

export interface DeviceStatus {
  readonly service: ServiceState;
  readonly bus: BusState;
  /** CreateFileW calls that succeeded (the arrival race must not open twice). */
  readonly openCount: number;
  readonly symbolicLink: string | undefined;
}

/** The USB capture of a session. */
export interface SessionCapture {
  /** The usbmon pcap (LINKTYPE 220) so far. */
  pcap(): Uint8Array;
  /** URB records so far (submit/complete) — sim only; empty in lab. */
  readonly recordCount: number;
}

/** One scenario's view of the rig. */
export interface Session extends AsyncDisposable {
  readonly mode: Mode;
  readonly seed: number;
  readonly speed: UsbDeviceSpeed;
  readonly clock: Clock;
  readonly host: UsbHost;
  readonly device: DeviceSide;
  readonly capture: SessionCapture;
  /** Simulator controls; undefined in lab (the `sim` fixture turns that into ModeNotSupportedError). */
  readonly sim: SimControls | undefined;
  /**
   * Finds the function on the host, opens it, claims its interface, waits until the device is configured
   * and reads its bulk endpoints, all within one deadline; the same agent on repeated calls until
   * {@link reopenAgent}.
   * @throws TimeoutError when the steps together exceed `timeoutMs`.
   */
  agent(options?: AgentOptions): Promise<HostAgent>;
  /** Closes the current agent's handle and opens a fresh one (after a re-enumeration). */
  reopenAgent(options?: AgentOptions): Promise<HostAgent>;
  /** Things a report should carry: name → JSON-able value or bytes. */
  artifacts(): Promise<{ deviceLog: unknown; extras: Record<string, unknown> }>;
  /**
   * What the world itself knows of the scenario's timeline beyond the capture and the device event log
   * (sim: the driver's IOCTLs and CM's deliveries; lab: the device trace's), for the report's timeline.
   */
  timelineExtras?(): Promise<readonly TimelineItem[]>;
  close(): Promise<void>;
}

export interface Rig extends AsyncDisposable {
  readonly mode: Mode;
  openSession(args: { name: string; seed: number; world: WorldOptions }): Promise<Session>;
  /**
   * Why a scenario with this world cannot run on this rig (the fixture skips it with the reason), or
   * undefined. Lab: a speed other than the bench's, a start the bench cannot set up, a bench latched broken.
   */
  skipReason?(world: WorldOptions): Promise<string | undefined>;
  /**
   * After a scenario failed: the infrastructure fault that caused it, if the bench itself went away during
   * it (lab: the agent is unreachable a moment after the host's transfer was cut). The fixture then files
   * the scenario broken, with that cause first and the scenario's own error after it.
   */
  infrastructureCause?(scenario: string, err: unknown): Promise<HarnessError | undefined>;
  close(): Promise<void>;
}

/** What a lab run shares with every scenario process (set up by the lab run's global setup). */
export interface LabRunContext {
  /** The lease the run holds (renewed by the global setup for the whole run). */
  readonly leaseId: string;
  readonly holder: string;
  readonly expiresAtMs: number;
  /** The run's broken latch (a file: the first infrastructure fault of any scenario). */
  readonly latchPath: string;
  /** lab-sim: the agent the run started (sim backend), its lab configuration and its USB/IP export. */
  readonly labSim?: LabSimContext | undefined;
}

/** What the lab-sim world's global setup started and the rig needs. */
export interface LabSimContext {
  readonly configPath: string;
  readonly token: string;
  readonly usbip: { readonly host: string; readonly port: number };
}

/** Opens the rig for a mode. Native modules load lazily inside, so `sim` runs on any OS. */
export async function openRig(mode: Mode, options: { lab?: LabRunContext | undefined } = {}): Promise<Rig> {
  if (mode === 'sim') {
    const { SimRig, SIM_CLOCK_ENV } = await import('./rig-sim.js');
    const clock = process.env[SIM_CLOCK_ENV];
    if (clock !== undefined && clock !== '' && clock !== 'real' && clock !== 'virtual') {
      throw new UsageError('INVALID_CONFIG', `${SIM_CLOCK_ENV}=${clock}: use 'virtual' (the default) or 'real' (worlds on the wall clock)`);
    }
    return new SimRig({ realTime: clock === 'real' });
  }
  if (mode === 'lab-sim') {
    const { openLabSimRig } = await import('./lab-sim/index.js');
    return openLabSimRig(options.lab);
  }
  const { openLabRig } = await import('./rig-lab.js');
  return openLabRig({ run: options.lab });
}
