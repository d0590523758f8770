/**
 * `SimUsbHost`: the virtual host PC of the simulated link, implementing the {@link UsbHost} seam with the
 * outcomes libusb gives (docs/architecture.md#error-model, #outcomes): stall and babble resolve as a status, everything else rejects
 * with the same {@link LibusbError} names the node-usb backend produces.
 *
 * When a device connects, the host enumerates it the way Linux usbcore does — debounce, port reset,
 * GET_DESCRIPTOR(device, 64) at address 0, a second port reset, SET_ADDRESS, device/BOS/configuration/string
 * descriptors, SET_CONFIGURATION, with usbcore's bounded retries (enumeration.ts) — through the same control
 * path as every other transfer, so the enumeration shows in the capture and costs bus time. Every wait runs
 * on the injected clock.
 *
 * @see host-side/usb-host.ts (the seam), USB 2.0 §9.1.2 (enumeration), §7.1.7.3 / §7.1.7.5 (timings)
 * @example
 * const host = new SimUsbHost({ clock, ports: [bus] });
 * const info = await host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 1000 });
 * await using dev = await host.open(info);
 */
import { bmRequestType, SimulatorError, USB_REQUEST, withTimeout, type Clock } from '../../../core/index.js';
import {
  encodeSetup,
  type ConfigurationDescriptor,
  type DeviceDescriptor,
  type UsbDeviceFilter,
  type UsbDeviceHandle,
  type UsbDeviceInfo,
  type UsbHost,
  type UsbHotplugEvent,
  type UsbOpenOptions,
} from '../../../host-side/index.js';
import type { BusHostListener, VirtualBus } from '../bus/index.js';
import { allocBuffer, HostUrb } from './host-urb.js';
import { libusbError } from './libusb-codes.js';
import { SimUsbDeviceHandle } from './sim-usb-device-handle.js';
import { PlainUrbRun } from './urb-run.js';
import { enumerateDevice } from './enumeration.js';

export interface SimUsbHostOptions {
  readonly clock: Clock;
  /** The links (root-hub ports) this host sees. */
  readonly ports: readonly VirtualBus[];
  /** Transfer timeout when a call gives none. Default 5000 ms. */
  readonly defaultTimeoutMs?: number | undefined;
}

/** What the host learned about an enumerated device. */
export interface EnumeratedDevice {
  readonly info: UsbDeviceInfo;
  readonly address: number;
  readonly deviceDescriptor: DeviceDescriptor;
  readonly deviceDescriptorBytes: Uint8Array;
  readonly configurationBytes: Uint8Array;
  readonly configuration: ConfigurationDescriptor;
  /** bConfigurationValue selected (0 = unconfigured). */
  activeConfiguration: number;
  /** interface number → alternate setting in use. */
  readonly alternates: Map<number, number>;
}

/** One root-hub port: a bus and what is enumerated on it. */
export class SimPort implements BusHostListener {
  readonly bus: VirtualBus;
  readonly host: SimUsbHost;
  /** Bumped on every connect and disconnect: stale enumerations and handles notice. */
  generation = 0;
  device: EnumeratedDevice | undefined;
  /** interface number → handle that claimed it. */
  readonly claims = new Map<number, SimUsbDeviceHandle>();
  readonly handles = new Set<SimUsbDeviceHandle>();
  /** The last enumeration failure (enumeration errors are kept, never swallowed). */
  lastEnumerationError: unknown;
  #nextAddress = 1;
  /** Handles and resets wait on this while an enumeration or reset runs. */
  busy: Promise<void> | undefined;

  constructor(host: SimUsbHost, bus: VirtualBus) {
    this.host = host;
    this.bus = bus;
  }

  connected(): void {
    const gen = ++this.generation;
    this.lastEnumerationError = undefined;
    const run = this.host.enumerate(this, gen, this.#takeAddress(), false, () => this.#takeAddress()).then(
      (dev) => {
        if (gen !== this.generation || dev === undefined) return;
        this.device = dev;
        this.host.emitHotplug({ type: 'attach', device: dev.info });
      },
      (err: unknown) => {
        if (gen === this.generation) this.lastEnumerationError = err;
      },
    );
    this.busy = run.finally(() => {
      if (this.busy === run) this.busy = undefined;
    });
  }

  /**
   * The host resets the port now, as usbcore's error recovery or another process's libusb_reset_device does:
   * the transfers in flight end LIBUSB_TRANSFER_CANCELLED at this instant (-ESHUTDOWN in the capture), then
   * the host enumerates the device again at its address and restores the alternate settings, as Linux
   * usb_reset_and_verify_device does. With unchanged descriptors the device record and every open handle stay
   * valid; otherwise (or when an alternate cannot be restored) it is a new device.
   * During an enumeration (no device yet) the reset ends the enumeration's current step, which usbcore
   * retries. Resolves when the re-enumeration ended (its failure is kept in {@link lastEnumerationError}).
   */
  resetNow(): Promise<void> {
    const dev = this.device;
    if (this.bus.resetPort() === undefined || dev === undefined) return Promise.resolve();
    const gen = this.generation;
    const run = this.host.enumerate(this, gen, dev.address, true, undefined, true).then(
      async (fresh) => {
        if (fresh === undefined || gen !== this.generation) return;
        let same = sameBytes(fresh.deviceDescriptorBytes, dev.deviceDescriptorBytes) && sameBytes(fresh.configurationBytes, dev.configurationBytes);
        dev.activeConfiguration = fresh.activeConfiguration;
        for (const [ifnum, alt] of same ? dev.alternates : []) {
          if (alt === 0) continue;
          const urb = await this.host.control(this, bmRequestType('out', 'standard', 'interface'), USB_REQUEST.SET_INTERFACE, alt, ifnum, 0, this.host.defaultTimeoutMs);
          if (urb.outcome !== 'ok') same = false;
        }
        if (!same && gen === this.generation) {
          this.disconnected();
          this.connected();
        }
      },
      (err: unknown) => {
        if (gen === this.generation) this.lastEnumerationError = err;
      },
    );
    this.busy = run.finally(() => {
      if (this.busy === run) this.busy = undefined;
    });
    return run;
  }

  /** The next device address (1..127, round robin), as usbcore's choose_devnum gives one per new device. */
  #takeAddress(): number {
    const address = this.#nextAddress;
    this.#nextAddress = this.#nextAddress >= 127 ? 1 : this.#nextAddress + 1;
    return address;
  }

  disconnected(): void {
    this.generation++;
    const dev = this.device;
    this.device = undefined;
    this.claims.clear();
    if (dev !== undefined) this.host.emitHotplug({ type: 'detach', device: dev.info });
  }
}

interface Subscriber {
  queue: UsbHotplugEvent[];
  wake: (() => void) | undefined;
  closed: boolean;
}

export class SimUsbHost implements UsbHost {
  readonly backend = 'sim';
  readonly clock: Clock;
  readonly defaultTimeoutMs: number;
  readonly #ports: SimPort[];
  readonly #subscribers = new Set<Subscriber>();
  readonly #attachWaiters = new Set<(info: UsbDeviceInfo) => void>();
  #closed = false;

  constructor(options: SimUsbHostOptions) {
    this.clock = options.clock;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 5000;
    this.#ports = options.ports.map((bus) => new SimPort(this, bus));
    for (const port of this.#ports) {
      port.bus.setHostListener(port);
      if (port.bus.connected) port.connected();
    }
  }

  /** The port of `bus` (for fault injection and diagnostics). */
  port(bus: VirtualBus): SimPort {
    const p = this.#ports.find((x) => x.bus === bus);
    if (p === undefined) throw new SimulatorError('SIM_NO_PORT', `bus ${bus.busNumber} is not a port of this SimUsbHost`);
    return p;
  }

  async listDevices(filter: UsbDeviceFilter = {}): Promise<UsbDeviceInfo[]> {
    return this.#matching(filter);
  }

  #matching(filter: UsbDeviceFilter): UsbDeviceInfo[] {
    const out: UsbDeviceInfo[] = [];
    for (const p of this.#ports) if (p.device !== undefined && matches(p.device.info, filter)) out.push(p.device.info);
    return out;
  }

  waitForDevice(filter: UsbDeviceFilter, options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<UsbDeviceInfo> {
    const now = this.#matching(filter)[0];
    if (now !== undefined) return Promise.resolve(now);
    let waiter: ((info: UsbDeviceInfo) => void) | undefined;
    const found = new Promise<UsbDeviceInfo>((resolve) => {
      waiter = (info) => {
        if (matches(info, filter)) resolve(info);
      };
      this.#attachWaiters.add(waiter);
    });
    const ports = this.#ports;
    return withTimeout(this.clock, found, `waitForDevice(${describeFilter(filter)})`, options.timeoutMs, {
      signal: options.signal,
      onGiveUp: () => this.#attachWaiters.delete(waiter!),
      // Read when the wait gives up, so that it names an enumeration that failed meanwhile.
      get detail(): string {
        const error = ports.map((p) => p.lastEnumerationError).find((e) => e !== undefined);
        return error !== undefined ? `enumeration failed: ${String((error as Error).message ?? error)}` : 'no matching device enumerated';
      },
    }).finally(() => this.#attachWaiters.delete(waiter!));
  }

  async open(device: UsbDeviceInfo, options: UsbOpenOptions = {}): Promise<UsbDeviceHandle> {
    if (options.signal?.aborted) throw libusbError('open', 'LIBUSB_ERROR_INTERRUPTED', 'aborted before open');
    const port = this.#ports.find((p) => p.device?.info.id === device.id);
    if (port === undefined || port.device === undefined || this.#closed) {
      throw libusbError('open', 'LIBUSB_ERROR_NO_DEVICE', `device ${device.id} is not attached (unplugged or re-enumerated): wait for it again`);
    }
    const handle = new SimUsbDeviceHandle(this, port, port.device);
    port.handles.add(handle);
    return handle;
  }

  hotplugEvents(options: { signal?: AbortSignal | undefined } = {}): AsyncIterable<UsbHotplugEvent> {
    const sub: Subscriber = { queue: [], wake: undefined, closed: this.#closed };
    this.#subscribers.add(sub);
    const close = (): void => {
      sub.closed = true;
      this.#subscribers.delete(sub);
      sub.wake?.();
    };
    if (options.signal?.aborted) close();
    else options.signal?.addEventListener('abort', close, { once: true });
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<UsbHotplugEvent> => ({
        next: async (): Promise<IteratorResult<UsbHotplugEvent>> => {
          for (;;) {
            const e = sub.queue.shift();
            if (e !== undefined) return { done: false, value: e };
            if (sub.closed) return { done: true, value: undefined };
            await new Promise<void>((resolve) => {
              sub.wake = resolve;
            });
            sub.wake = undefined;
          }
        },
        return: async (): Promise<IteratorResult<UsbHotplugEvent>> => {
          close();
          return { done: true, value: undefined };
        },
      }),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const sub of [...this.#subscribers]) {
      sub.closed = true;
      sub.wake?.();
    }
    this.#subscribers.clear();
    for (const p of this.#ports) {
      for (const h of [...p.handles]) await h.close();
      p.bus.setHostListener(undefined);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Internals shared with the port and the handles

  emitHotplug(event: UsbHotplugEvent): void {
    for (const sub of this.#subscribers) {
      sub.queue.push(event);
      sub.wake?.();
    }
    if (event.type === 'attach') for (const w of [...this.#attachWaiters]) w(event.device);
  }

  /**
   * One control transfer on `port` resolving with the finished URB (enumeration and the handle's
   * synchronous-style requests use it).
   */
  control(
    port: SimPort,
    bmRequestType: number,
    bRequest: number,
    wValue: number,
    wIndex: number,
    dataOrLength: Uint8Array | number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<HostUrb> {
    const isIn = (bmRequestType & 0x80) !== 0;
    const wLength = typeof dataOrLength === 'number' ? dataOrLength : dataOrLength.length;
    const setup = encodeSetup({ bmRequestType, bRequest, wValue, wIndex, wLength });
    const buffer = typeof dataOrLength === 'number' ? allocBuffer(dataOrLength) : dataOrLength;
    const urb = new HostUrb({ transferType: 'control', endpoint: isIn ? 0x80 : 0x00, buffer, setup });
    const run = new PlainUrbRun();
    run.start(this.clock, port.bus, urb, timeoutMs, signal);
    return run.result;
  }

  /**
   * Enumerates the device on `port` in Linux usbcore's order, with its retries (enumeration.ts).
   * `isReset` (libusb_reset_device) keeps the address and returns the new descriptors without publishing them.
   * @throws LibusbError when every attempt failed (stall, timeout), naming the step; LIBUSB_ERROR_NO_DEVICE
   * when the device went away.
   */
  enumerate(port: SimPort, gen: number, address: number, isReset: boolean, nextAddress?: () => number, alreadyReset = false): Promise<EnumeratedDevice | undefined> {
    return enumerateDevice(this, port, gen, address, isReset, nextAddress, alreadyReset);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function matches(info: UsbDeviceInfo, f: UsbDeviceFilter): boolean {
  if (f.vendorId !== undefined && info.vendorId !== f.vendorId) return false;
  if (f.productId !== undefined && info.productId !== f.productId) return false;
  if (f.serialNumber !== undefined && info.serialNumber !== f.serialNumber) return false;
  if (f.interfaceClass !== undefined && !info.interfaces.some((i) => i.interfaceClass === f.interfaceClass)) return false;
  if (f.interfaceNumber !== undefined && !info.interfaces.some((i) => i.interfaceNumber === f.interfaceNumber)) return false;
  return true;
}

function describeFilter(f: UsbDeviceFilter): string {
  const parts: string[] = [];
  if (f.vendorId !== undefined) parts.push(`VID 0x${f.vendorId.toString(16).padStart(4, '0')}`);
  if (f.productId !== undefined) parts.push(`PID 0x${f.productId.toString(16).padStart(4, '0')}`);
  if (f.serialNumber !== undefined) parts.push(`serial ${f.serialNumber}`);
  if (f.interfaceClass !== undefined) parts.push(`class 0x${f.interfaceClass.toString(16)}`);
  if (f.interfaceNumber !== undefined) parts.push(`interface ${f.interfaceNumber}`);
  return parts.join(', ') || 'any device';
}
