/**
 * The device side of a lab session, reached through the device agent: the same `DeviceSide` scenarios use
 * in sim, each call one request of protocol v1. Errors come back as the device raised them (a `TimeoutError`
 * of a wait is the same class as in sim); infrastructure faults go to the rig's `onFault`, which latches the
 * bench broken, before they reach the scenario.
 */
import type { BusState, DeviceLogEntry, ServiceState } from '../../device-side/index.js';
import type { DeviceSide, DeviceStatus } from '../rig.js';
import type { AgentClient } from './agent-client.js';

/** The device side's own wait bound when a scenario gives none (the sim rig's default). */
export const DEFAULT_DEVICE_WAIT_MS = 10_000;

export interface RemoteDeviceSideOptions {
  readonly client: AgentClient;
  readonly sessionId: string;
  readonly functionName: string;
  /** Sees every error before the caller does (the rig latches infrastructure faults there). */
  readonly onFault: (err: unknown) => void;
}

export class RemoteDeviceSide implements DeviceSide {
  readonly functionName: string;
  readonly #client: AgentClient;
  readonly #sessionId: string;
  readonly #onFault: (err: unknown) => void;

  constructor(options: RemoteDeviceSideOptions) {
    this.#client = options.client;
    this.#sessionId = options.sessionId;
    this.functionName = options.functionName;
    this.#onFault = options.onFault;
  }

  async #guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      this.#onFault(err);
      throw err;
    }
  }

  async status(): Promise<DeviceStatus> {
    const { status } = await this.#guard(() => this.#client.getSession(this.#sessionId));
    // The schema's literals are exactly ServiceState and BusState (checked when the answer was decoded).
    return { service: status.service as ServiceState, bus: status.bus as BusState, openCount: status.openCount, symbolicLink: status.symbolicLink ?? undefined };
  }

  async eventLog(): Promise<readonly DeviceLogEntry[]> {
    const log = await this.#guard(() => this.#client.log(this.#sessionId));
    return log.entries.map(toDeviceLogEntry);
  }

  whenConfigured(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.#wait('configured', options.timeoutMs);
  }

  whenActive(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.#wait('active', options.timeoutMs);
  }

  whenWaiting(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.#wait('waiting', options.timeoutMs);
  }

  async startService(): Promise<void> {
    await this.#guard(() => this.#client.startService(this.#sessionId, { timeoutMs: DEFAULT_DEVICE_WAIT_MS }));
  }

  async stopService(): Promise<void> {
    await this.#guard(() => this.#client.stopService(this.#sessionId, { timeoutMs: DEFAULT_DEVICE_WAIT_MS }));
  }

  async #wait(until: 'configured' | 'active' | 'waiting', timeoutMs = DEFAULT_DEVICE_WAIT_MS): Promise<void> {
    await this.#guard(() => this.#client.waitFor(this.#sessionId, { until, timeoutMs }));
  }
}

/** A protocol log entry as the service's `DeviceLogEntry` (the wire adds `seq` and `wallMs`). */
export function toDeviceLogEntry(e: { timeMs: number; level: DeviceLogEntry['level']; kind: string; detail?: Record<string, unknown> | undefined; error?: DeviceLogEntry['error'] }): DeviceLogEntry {
  return { timeMs: e.timeMs, level: e.level, kind: e.kind, ...(e.detail === undefined ? {} : { detail: e.detail }), ...(e.error === undefined ? {} : { error: e.error }) };
}
