/**
 * `SimUsbHost`: the virtual host PC of the simulated link, implementing the {@link UsbHost} seam with the
 * outcomes libusb gives (STYLE.md §5, §8.4): stall and babble resolve as a status, everything else rejects
 * with the same {@link LibusbError} names the node-usb backend produces.
 *
 * When a device connects, the host enumerates it the way Linux usbcore does — debounce, port reset,
 * GET_DESCRIPTOR(device, 64) at address 0, SET_ADDRESS, device/BOS/configuration/string descriptors,
 * SET_CONFIGURATION — through the same control path as every other transfer, so the enumeration shows in
 * the capture and costs bus time. Every wait runs on the injected clock.
 *
 * @see host-side/usb-host.ts (the seam), USB 2.0 §9.1.2 (enumeration), §7.1.7.3 / §7.1.7.5 (timings)
 * @example
 * const host = new SimUsbHost({ clock, ports: [bus] });
 * const info = await host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 1000 });
 * await using dev = await host.open(info);
 */
import { bmRequestType, delay, SimulatorError, USB_DT, USB_REQUEST, withTimeout, type Clock, type UsbSpeed } from '../../../core/index.js';
import {
  encodeSetup,
  parseConfigurationDescriptor,
  parseDeviceDescriptor,
  parseLangIds,
  parseStringDescriptor,
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
import type { UrbOutcome } from '../link-contract.js';
import { allocBuffer, HostUrb } from './host-urb.js';
import { libusbError } from './libusb-codes.js';
import { SimUsbDeviceHandle } from './sim-usb-device-handle.js';
import { PlainUrbRun } from './urb-run.js';

/** Timings from USB 2.0 §7.1.7 (ms). */
const T_ATTDB = 100; // attach debounce (§7.1.7.3)
const T_DRST = 10; // reset signalling, minimum (§7.1.7.5)
const T_RSTRCY = 10; // reset recovery (§7.1.7.5)
const T_SETADDR = 2; // SET_ADDRESS recovery (§9.2.6.3)
/** usbcore's USB_CTRL_GET_TIMEOUT. */
const ENUM_TIMEOUT_MS = 5000;
const LANGID_EN_US = 0x0409;

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
    const address = this.#nextAddress;
    this.#nextAddress = this.#nextAddress >= 127 ? 1 : this.#nextAddress + 1;
    const run = this.host.enumerate(this, gen, address, false).then(
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
    const errors = this.#ports.map((p) => p.lastEnumerationError).filter((e) => e !== undefined);
    return withTimeout(this.clock, found, `waitForDevice(${describeFilter(filter)})`, options.timeoutMs, {
      signal: options.signal,
      onGiveUp: () => this.#attachWaiters.delete(waiter!),
      detail: errors.length > 0 ? `enumeration failed: ${String((errors[0] as Error).message ?? errors[0])}` : 'no matching device enumerated',
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
   * Enumerates the device on `port` (Linux usbcore order). `sameDevice` (libusb_reset_device) keeps the
   * address and returns the new descriptors without publishing them.
   * @throws LibusbError when a step fails (stall, timeout, no device), naming the step.
   */
  async enumerate(port: SimPort, gen: number, address: number, isReset: boolean): Promise<EnumeratedDevice | undefined> {
    const clock = this.clock;
    const stale = (): boolean => gen !== port.generation;
    if (!isReset) {
      await delay(clock, T_ATTDB);
      if (stale()) return undefined;
    }
    await delay(clock, T_DRST);
    if (stale()) return undefined;
    const speed = port.bus.resetPort();
    if (speed === undefined) return undefined;
    await delay(clock, T_RSTRCY);
    const step = async (what: string, bm: number, req: number, value: number, index: number, len: Uint8Array | number): Promise<Uint8Array> => {
      if (stale()) throw libusbError('enumerate', 'LIBUSB_ERROR_NO_DEVICE', `${what}: the device went away during enumeration`);
      const urb = await this.control(port, bm, req, value, index, len, ENUM_TIMEOUT_MS);
      if (urb.outcome !== 'ok') throw enumerationError(what, urb.outcome);
      return urb.buffer.subarray(0, urb.actual);
    };
    const IN_DEVICE = bmRequestType('in', 'standard', 'device');
    const { GET_DESCRIPTOR } = USB_REQUEST;
    await step('GET_DESCRIPTOR(DEVICE, 64) at address 0', IN_DEVICE, GET_DESCRIPTOR, USB_DT.DEVICE << 8, 0, 64);
    await step(`SET_ADDRESS(${address})`, bmRequestType('out', 'standard', 'device'), USB_REQUEST.SET_ADDRESS, address, 0, 0);
    await delay(clock, T_SETADDR);
    const devBytes = (await step('GET_DESCRIPTOR(DEVICE)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.DEVICE << 8, 0, 18)).slice();
    const dd = parseDeviceDescriptor(devBytes);
    if (dd.bcdUSB >= 0x0201) {
      const head = await step('GET_DESCRIPTOR(BOS, 5)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.BOS << 8, 0, 5);
      await step('GET_DESCRIPTOR(BOS)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.BOS << 8, 0, head[2]! | (head[3]! << 8));
    }
    const cfgHead = await step('GET_DESCRIPTOR(CONFIGURATION, 9)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.CONFIGURATION << 8, 0, 9);
    const total = cfgHead[2]! | (cfgHead[3]! << 8);
    const cfgBytes = (await step('GET_DESCRIPTOR(CONFIGURATION)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.CONFIGURATION << 8, 0, total)).slice();
    const configuration = parseConfigurationDescriptor(cfgBytes);
    const strings = new Map<number, string>();
    if (!isReset && (dd.iManufacturer | dd.iProduct | dd.iSerialNumber) !== 0) {
      const langs = parseLangIds(await step('GET_DESCRIPTOR(STRING 0)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.STRING << 8, 0, 255));
      const lang = langs.includes(LANGID_EN_US) ? LANGID_EN_US : (langs[0] ?? LANGID_EN_US);
      for (const i of [dd.iProduct, dd.iManufacturer, dd.iSerialNumber]) {
        if (i === 0 || strings.has(i)) continue;
        strings.set(i, parseStringDescriptor(await step(`GET_DESCRIPTOR(STRING ${i})`, IN_DEVICE, GET_DESCRIPTOR, (USB_DT.STRING << 8) | i, lang, 255)));
      }
    }
    // usbcore's generic driver selects the first configuration (choose_configuration).
    await step(`SET_CONFIGURATION(${configuration.bConfigurationValue})`, bmRequestType('out', 'standard', 'device'), USB_REQUEST.SET_CONFIGURATION, configuration.bConfigurationValue, 0, 0);
    const alternates = new Map<number, number>();
    const info: UsbDeviceInfo = {
      id: `sim-${port.bus.busNumber}-${address}`,
      busNumber: port.bus.busNumber,
      deviceAddress: address,
      vendorId: dd.idVendor,
      productId: dd.idProduct,
      deviceVersion: dd.bcdDevice,
      speed: speed as UsbSpeed,
      manufacturer: strings.get(dd.iManufacturer),
      product: strings.get(dd.iProduct),
      serialNumber: strings.get(dd.iSerialNumber),
      interfaces: configuration.interfaces
        .filter((i) => i.bAlternateSetting === 0)
        .map((i) => ({ interfaceNumber: i.bInterfaceNumber, interfaceClass: i.bInterfaceClass })),
    };
    return {
      info,
      address,
      deviceDescriptor: dd,
      deviceDescriptorBytes: devBytes,
      configurationBytes: cfgBytes,
      configuration,
      activeConfiguration: configuration.bConfigurationValue,
      alternates,
    };
  }
}

function enumerationError(what: string, outcome: UrbOutcome): Error {
  switch (outcome) {
    case 'stall':
      return libusbError('enumerate', 'LIBUSB_ERROR_PIPE', `${what} stalled: the device rejected a chapter-9 request`);
    case 'timeout':
      return libusbError('enumerate', 'LIBUSB_ERROR_TIMEOUT', `${what} got no answer within ${ENUM_TIMEOUT_MS} ms`);
    case 'noDevice':
      return libusbError('enumerate', 'LIBUSB_ERROR_NO_DEVICE', `${what}: the device went away`);
    default:
      return libusbError('enumerate', 'LIBUSB_ERROR_IO', `${what} ended with ${outcome}`);
  }
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
