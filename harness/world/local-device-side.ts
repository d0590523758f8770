/**
 * The device side in a simulated world: the device-side service object itself, its waits on the world's
 * virtual clock. The lab world reaches the same interface through the device agent.
 */
import { type Clock, withTimeout } from '../../core/index.js';
import type { DeviceLogEntry, UsbFnService } from '../../device-side/index.js';
import type { DeviceSide, DeviceStatus, DeviceWaitOptions } from '../rig.js';

export class LocalDeviceSide implements DeviceSide {
  readonly #service: UsbFnService;
  readonly #clock: Clock;
  readonly #defaultWaitMs: number;

  /** `defaultWaitMs` bounds every wait that is given no `timeoutMs`. */
  constructor(service: UsbFnService, clock: Clock, defaultWaitMs: number) {
    this.#service = service;
    this.#clock = clock;
    this.#defaultWaitMs = defaultWaitMs;
  }

  get functionName(): string {
    return this.#service.fn.name;
  }

  async status(): Promise<DeviceStatus> {
    return {
      service: this.#service.state,
      bus: this.#service.busState,
      openCount: this.#service.openCount,
      symbolicLink: this.#service.symbolicLink,
    };
  }

  async eventLog(): Promise<readonly DeviceLogEntry[]> {
    return this.#service.log.entries;
  }

  whenConfigured(options: DeviceWaitOptions = {}): Promise<void> {
    return this.#service.whenConfigured(this.#wait(options));
  }

  whenActive(options: DeviceWaitOptions = {}): Promise<void> {
    return this.#service.whenActive(this.#wait(options));
  }

  whenWaiting(options: DeviceWaitOptions = {}): Promise<void> {
    return this.#service.whenWaiting(this.#wait(options));
  }

  startService(): Promise<void> {
    return withTimeout(this.#clock, this.#service.start(), 'service start', this.#defaultWaitMs);
  }

  stopService(): Promise<void> {
    return this.#service.stop();
  }

  #wait(options: DeviceWaitOptions): { timeoutMs: number; signal?: AbortSignal } {
    return { timeoutMs: options.timeoutMs ?? this.#defaultWaitMs, signal: options.signal };
  }
}
