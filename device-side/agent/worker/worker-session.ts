/**
 * One session inside the service worker: the backend's port, decorated (trace recorder under, fault
 * injector over it), the real `UsbFnService` with the session's test function, and the session's device
 * event log, whose entries are forwarded to the control process as they are written.
 */
import { withTimeout } from '../../../core/index.js';
import type { UsbFnDriverSettings } from '../../driver-settings.js';
import { createLoopbackFunction, createSourceSinkFunction, DeviceEventLog, UsbFnService, type DeviceLogEntry, type UsbFunction } from '../../index.js';
import type { UsbFnPort } from '../../usbfn-port.js';
import { AgentError } from '../agent-error.js';
import type { AgentBackend, AgentBackendSession } from '../agent-backend.js';
import { FaultyUsbFnPort, type FaultFiring } from '../faults/index.js';
import type { DeviceStatusJson } from '../protocol/index.js';
import { MemoryTraceSink, recordingPort } from '../../trace/index.js';
import { jsonSafe } from './json-safe.js';
import { FAULT_LABEL, type AgentFunctionKind, type WorkerCommand, type WorkerFault, type WorkerLogEntry, type WorkerResults } from './worker-protocol.js';

type OpenCommand = Extract<WorkerCommand, { op: 'openSession' }>;

/** What every session of the worker shares. */
export interface WorkerSessionOptions {
  /** Bound of the session's device trace (records). */
  readonly traceLimit: number;
  /** The driver settings the session's service runs with (every service it starts). Default: the defaults. */
  readonly driverSettings?: UsbFnDriverSettings | undefined;
}

function createFunction(kind: AgentFunctionKind): UsbFunction {
  return kind === 'sourceSink' ? createSourceSinkFunction() : createLoopbackFunction();
}

export class WorkerSession {
  readonly id: string;
  readonly log: DeviceEventLog;
  readonly #backendSession: AgentBackendSession;
  readonly #port: FaultyUsbFnPort;
  /** The session's device trace (the format `usbfn-hil trace check` reads, docs/reference/device-trace.md). */
  readonly #trace: MemoryTraceSink | undefined;
  readonly #fnKind: AgentFunctionKind;
  readonly #busEventDepth: number | undefined;
  readonly #driverSettings: UsbFnDriverSettings | undefined;
  readonly #openedAt: number;
  readonly #stopForwarding: () => void;
  #service: UsbFnService;

  private constructor(cmd: OpenCommand, backendSession: AgentBackendSession, backendName: string, log: DeviceEventLog, options: WorkerSessionOptions, stopForwarding: () => void) {
    this.id = cmd.sessionId;
    this.log = log;
    this.#stopForwarding = stopForwarding;
    this.#backendSession = backendSession;
    this.#fnKind = cmd.world.fn;
    this.#busEventDepth = cmd.world.busEventDepth;
    this.#driverSettings = options.driverSettings;
    let port: UsbFnPort = backendSession.port;
    this.#openedAt = port.clock.now();
    if (cmd.world.trace === true) {
      this.#trace = new MemoryTraceSink({ maxLines: options.traceLimit });
      port = recordingPort(port, this.#trace, { backend: backendName });
    }
    this.#port = new FaultyUsbFnPort(port, (f) => this.#onFaultFired(f));
    this.#service = this.#newService();
  }

  /**
   * Opens a session: the backend's port, the service and its function; starts the service unless the world
   * says `startService: false`. Log entries go to `forward` from the first one on.
   */
  static async open(
    cmd: OpenCommand,
    backend: AgentBackend,
    forward: (entry: WorkerLogEntry) => void,
    options: WorkerSessionOptions,
  ): Promise<WorkerSession> {
    let t0 = 0;
    let clockNow: () => number = () => 0;
    const log = new DeviceEventLog(() => clockNow() - t0);
    const stop = log.onEntry((e) => forward(toWorkerEntry(e)));
    let backendSession: AgentBackendSession;
    try {
      backendSession = await backend.openSession({ name: cmd.name, seed: cmd.seed, world: cmd.world, log: (kind, detail) => log.warn(kind, detail) });
    } catch (err) {
      stop();
      throw err;
    }
    clockNow = () => backendSession.port.clock.now();
    t0 = clockNow();
    const session = new WorkerSession(cmd, backendSession, backend.name, log, options, stop);
    // The settings as the service resolved them: the report's device event log says what the session ran with.
    log.info('session', { name: cmd.name, seed: cmd.seed, fn: cmd.world.fn, backend: backend.name, driverSettings: { ...session.#service.driverSettings } });
    if (cmd.world.startService !== false) await session.#service.start();
    return session;
  }

  get functionName(): string {
    return this.#service.fn.name;
  }

  status(): DeviceStatusJson {
    const s = this.#service;
    return { service: s.state, bus: s.busState, openCount: s.openCount, symbolicLink: s.symbolicLink ?? null };
  }

  async startService(timeoutMs: number): Promise<WorkerResults['startService']> {
    // A UsbFnService ends in 'stopped' and never starts again: a start after a stop runs a fresh service (and
    // function) over the same port, as restarting the Windows service would. Starting a running one stays 409.
    if (this.#service.state === 'stopped') this.#service = this.#newService();
    await withTimeout(this.#port.clock, this.#service.start(), 'service start', timeoutMs);
    return { status: this.status() };
  }

  async stopService(timeoutMs: number): Promise<WorkerResults['stopService']> {
    await withTimeout(this.#port.clock, this.#service.stop(), 'service stop', timeoutMs);
    return { status: this.status() };
  }

  async wait(until: 'configured' | 'active' | 'waiting', timeoutMs: number, signal: AbortSignal): Promise<WorkerResults['wait']> {
    const s = this.#service;
    const options = { timeoutMs, signal };
    await (until === 'configured' ? s.whenConfigured(options) : until === 'active' ? s.whenActive(options) : s.whenWaiting(options));
    return { status: this.status(), atMs: this.#port.clock.now() - this.#openedAt };
  }

  /** Carries out a worker fault (crash/hang are the host's). @throws AgentError LAB_AGENT_FAULT_UNSUPPORTED when it cannot now. */
  async fault(fault: WorkerFault): Promise<WorkerResults['fault']> {
    switch (fault.kind) {
      case 'failIoctl':
        this.#port.failIoctl(fault);
        break;
      case 'dropNotification':
        this.#port.dropNotification(fault);
        break;
      case 'closeHandle': {
        const link = await this.#port.closeHandle();
        if (link === undefined) {
          throw new AgentError(
            'LAB_AGENT_FAULT_UNSUPPORTED',
            `closeHandle: no interface handle is open (service '${this.#service.state}')`,
            "Wait until the service is active (POST /v1/sessions/{id}/wait with until 'active') before closing its handle.",
            { kind: 'closeHandle' },
          );
        }
        this.log.warn('handleClosedBehindService', { faultId: fault.faultId, link });
        break;
      }
      case 'restartService':
        await this.#service.stop();
        this.#service = this.#newService();
        await this.#service.start();
        break;
      default:
        break;
    }
    const label = FAULT_LABEL[fault.kind];
    this.log.info('fault', { ...fault, label });
    return { label };
  }

  trace(): WorkerResults['trace'] {
    if (this.#trace === undefined) {
      throw new AgentError('LAB_AGENT_NOT_FOUND', `session ${this.id} was opened without a device trace`, 'Open the session with world.trace: true to record one.', {
        sessionId: this.id,
      });
    }
    return { lines: this.#trace.text().trimEnd().split('\n'), dropped: this.#trace.dropped };
  }

  /** Stops the service (errors are logged, not thrown) and releases the backend's session. */
  async close(): Promise<void> {
    try {
      await this.#service.stop();
    } catch {
      // stop() logged it (stopFailed); closing goes on.
    }
    try {
      await this.#backendSession.close();
    } catch (err) {
      this.log.error('backendCloseFailed', err);
    }
    this.log.info('sessionClosed');
    this.#stopForwarding();
  }

  #newService(): UsbFnService {
    return new UsbFnService({
      port: this.#port,
      interfaceClassGuid: this.#backendSession.interfaceClassGuid,
      fn: createFunction(this.#fnKind),
      busEventDepth: this.#busEventDepth,
      log: this.log,
      driverSettings: this.#driverSettings,
    });
  }

  #onFaultFired(f: FaultFiring): void {
    this.log.warn('faultFired', { ...f, label: FAULT_LABEL[f.kind] });
  }
}

/** A log entry as plain data with the wall clock of the moment it was written. */
function toWorkerEntry(e: DeviceLogEntry): WorkerLogEntry {
  const entry: { -readonly [K in keyof WorkerLogEntry]: WorkerLogEntry[K] } = { timeMs: e.timeMs, wallMs: Date.now(), level: e.level, kind: e.kind };
  if (e.detail !== undefined) entry.detail = jsonSafe(e.detail) as Record<string, unknown>;
  if (e.error !== undefined) entry.error = jsonSafe(e.error) as WorkerLogEntry['error'];
  return entry;
}
