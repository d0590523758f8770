/**
 * `NodeUsbHost`: the `UsbHost` seam over real libusb through the `usb` 2.x package's legacy API
 * (docs/architecture.md#seams). The package loads lazily inside {@link NodeUsbHost.create}, so importing this file
 * costs nothing in sim runs.
 */
import { type Clock, RealClock, withTimeout, type UsbSpeed, AbortedError } from '../../core/index.js';
import type { UsbDeviceFilter, UsbDeviceHandle, UsbDeviceInfo, UsbHost, UsbHotplugEvent, UsbOpenOptions } from '../usb-host.js';
import { LIBUSB_ERROR, hasLibusbErrno, libusbError, libusbErrorFrom } from '../libusb-error.js';
import { NodeUsbDeviceHandle, type SharedDeviceState } from './node-usb-device-handle.js';
import { type DeviceLike, type UsbModuleLike, loadUsbModule } from './usb-module.js';

export interface NodeUsbHostOptions {
  /** Clock for waits (default: real time). */
  readonly clock?: Clock | undefined;
  /** Default per-transfer timeout in ms (default 5000). */
  readonly defaultTimeoutMs?: number | undefined;
  /** Read manufacturer/product/serial strings while listing (opens each matching device briefly). Default true. */
  readonly readStrings?: boolean | undefined;
  /** Re-list period while waiting for a device, a backstop for missed or early hotplug events (default 500 ms). */
  readonly pollIntervalMs?: number | undefined;
  /** For tests: a fake of the `usb` module instead of `await import('usb')`. */
  readonly usbModule?: UsbModuleLike | undefined;
  /** For tests: the platform (default `process.platform`). */
  readonly platform?: string | undefined;
}

/** Control timeout while reading strings during a listing. */
const STRING_TIMEOUT_MS = 1000;

/**
 * The real host: libusb through node-usb.
 *
 * @example
 * await using host = await NodeUsbHost.create();
 * const info = await host.waitForDevice({ vendorId: 0x1209, productId: 0x0001 }, { timeoutMs: 10_000 });
 * await using dev = await host.open(info);
 */
export class NodeUsbHost implements UsbHost {
  readonly backend = 'node-usb';
  readonly #usb: UsbModuleLike;
  readonly #clock: Clock;
  readonly #defaultTimeoutMs: number | undefined;
  readonly #readStrings: boolean;
  readonly #pollIntervalMs: number;
  readonly #platform: string;
  readonly #handles = new Set<NodeUsbDeviceHandle>();
  readonly #stop = new AbortController();
  /** Open handles and claims per device object (node-usb shares one libusb handle among them). */
  readonly #shared = new WeakMap<DeviceLike, SharedDeviceState>();
  /** Last info per device object, so a detach reports what was attached. */
  readonly #known = new WeakMap<DeviceLike, UsbDeviceInfo>();

  private constructor(usb: UsbModuleLike, options: NodeUsbHostOptions) {
    this.#usb = usb;
    this.#clock = options.clock ?? new RealClock();
    this.#defaultTimeoutMs = options.defaultTimeoutMs;
    this.#readStrings = options.readStrings ?? true;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#platform = options.platform ?? process.platform;
  }

  /**
   * Loads `usb` (libusb) and returns the host.
   * @throws UsageError LIBUSB_UNAVAILABLE when the package or libusb cannot be loaded (see `usbfn-hil doctor`).
   */
  static async create(options: NodeUsbHostOptions = {}): Promise<NodeUsbHost> {
    const usb = options.usbModule ?? (await loadUsbModule());
    return new NodeUsbHost(usb, options);
  }

  /** Devices attached now that match `filter`. Strings are read when the device can be opened. */
  async listDevices(filter: UsbDeviceFilter = {}): Promise<UsbDeviceInfo[]> {
    const out: UsbDeviceInfo[] = [];
    for (const device of this.#usb.getDeviceList()) {
      if (!matchesDescriptors(device, filter)) continue;
      const strings = this.#readStrings || filter.serialNumber !== undefined ? await this.#readDeviceStrings(device) : {};
      const info = deviceInfo(device, strings);
      this.#known.set(device, info);
      if (filter.serialNumber !== undefined && info.serialNumber !== filter.serialNumber) continue;
      out.push(info);
    }
    return out;
  }

  /**
   * Resolves with the first matching device, attached now or later (hotplug events, plus a periodic
   * re-list in case an event came before udev applied permissions).
   * @throws TimeoutError after `timeoutMs`; AbortedError on abort.
   */
  async waitForDevice(filter: UsbDeviceFilter, options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<UsbDeviceInfo> {
    const stop = new AbortController();
    let listener: ((d: DeviceLike) => void) | undefined;
    let timer: { cancel(): void } | undefined;
    const found = new Promise<UsbDeviceInfo>((resolve, reject) => {
      let busy = false;
      let again = false;
      const check = (): void => {
        if (stop.signal.aborted) return;
        if (busy) {
          // An event arrived during a listing: list once more afterwards so it is not missed.
          again = true;
          return;
        }
        busy = true;
        again = false;
        this.listDevices(filter).then(
          (list) => {
            busy = false;
            const first = list[0];
            if (first !== undefined) resolve(first);
            else if (again) check();
          },
          (e: unknown) => {
            busy = false;
            reject(e);
          },
        );
      };
      const poll = (): void => {
        check();
        timer = this.#clock.setTimer(this.#pollIntervalMs, poll);
      };
      listener = () => check();
      this.#usb.on('attach', listener);
      poll();
    });
    try {
      return await withTimeout(this.#clock, found, `a USB device matching ${describeFilter(filter)}`, options.timeoutMs, {
        signal: options.signal,
        detail: 'check the cable, that the device side is running, and `usbfn-hil doctor`',
      });
    } finally {
      stop.abort();
      timer?.cancel();
      if (listener !== undefined) this.#usb.removeListener('attach', listener);
    }
  }

  /**
   * Opens the device (libusb_open) and reads its interfaces.
   * @throws LibusbError LIBUSB_ERROR_ACCESS (permissions), LIBUSB_ERROR_NO_DEVICE (gone), LIBUSB_ERROR_NOT_SUPPORTED (Windows without WinUSB).
   */
  async open(info: UsbDeviceInfo, options: UsbOpenOptions = {}): Promise<UsbDeviceHandle> {
    if (options.signal?.aborted) throw new AbortedError(`open(${info.id})`, options.signal.reason);
    const device = this.#usb
      .getDeviceList()
      .find(
        (d) =>
          d.busNumber === info.busNumber &&
          d.deviceAddress === info.deviceAddress &&
          d.deviceDescriptor.idVendor === info.vendorId &&
          d.deviceDescriptor.idProduct === info.productId,
      );
    if (device === undefined) {
      throw libusbError('open', LIBUSB_ERROR.LIBUSB_ERROR_NO_DEVICE, {
        detail: `${info.id} (VID 0x${hex4(info.vendorId)} PID 0x${hex4(info.productId)}) is no longer attached: wait for it again`,
      });
    }
    let shared = this.#shared.get(device);
    if (shared === undefined || shared.opens === 0) {
      // One libusb handle per device object (node-usb reuses it on a second open): open it for the first handle only.
      try {
        device.open();
      } catch (e) {
        throw libusbErrorFrom('open', e, { detail: `${info.id} (VID 0x${hex4(info.vendorId)} PID 0x${hex4(info.productId)})` });
      }
      shared = { opens: 0, claims: new Map() };
      this.#shared.set(device, shared);
    }
    shared.opens++;
    const handle: NodeUsbDeviceHandle = new NodeUsbDeviceHandle({
      usb: this.#usb,
      device,
      shared,
      info,
      clock: this.#clock,
      platform: this.#platform,
      defaultTimeoutMs: this.#defaultTimeoutMs,
      onClose: () => this.#handles.delete(handle),
    });
    this.#handles.add(handle);
    return handle;
  }

  /** Attach/detach events from now on until `signal` aborts or the host closes. */
  hotplugEvents(options: { signal?: AbortSignal | undefined } = {}): AsyncIterable<UsbHotplugEvent> {
    const usb = this.#usb;
    const known = this.#known;
    const hostStop = this.#stop.signal;
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<UsbHotplugEvent> => {
        const queue: UsbHotplugEvent[] = [];
        let wake: (() => void) | undefined;
        let ended = false;
        const onAttach = (d: DeviceLike): void => {
          const info = deviceInfo(d, {});
          known.set(d, info);
          queue.push({ type: 'attach', device: info });
          wake?.();
        };
        const onDetach = (d: DeviceLike): void => {
          queue.push({ type: 'detach', device: known.get(d) ?? deviceInfo(d, {}) });
          wake?.();
        };
        const end = (): void => {
          if (ended) return;
          ended = true;
          usb.removeListener('attach', onAttach);
          usb.removeListener('detach', onDetach);
          options.signal?.removeEventListener('abort', end);
          hostStop.removeEventListener('abort', end);
          wake?.();
        };
        usb.on('attach', onAttach);
        usb.on('detach', onDetach);
        options.signal?.addEventListener('abort', end, { once: true });
        hostStop.addEventListener('abort', end, { once: true });
        if (options.signal?.aborted || hostStop.aborted) end();
        return {
          next: async (): Promise<IteratorResult<UsbHotplugEvent>> => {
            for (;;) {
              const ev = queue.shift();
              if (ev !== undefined) return { value: ev, done: false };
              if (ended) return { value: undefined, done: true };
              await new Promise<void>((r) => (wake = r));
              wake = undefined;
            }
          },
          return: async (): Promise<IteratorResult<UsbHotplugEvent>> => {
            end();
            return { value: undefined, done: true };
          },
        };
      },
    };
  }

  /** Ends hotplug iterators and closes every handle this host opened. */
  async close(): Promise<void> {
    this.#stop.abort();
    const results = await Promise.allSettled([...this.#handles].map((h) => h.close()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    if (failed.length === 1) throw failed[0];
    if (failed.length > 1) throw new AggregateError(failed, `closing ${failed.length} device handles failed`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #readDeviceStrings(device: DeviceLike): Promise<DeviceStrings> {
    const d = device.deviceDescriptor;
    if (d.iManufacturer === 0 && d.iProduct === 0 && d.iSerialNumber === 0) return {};
    const wasOpen = device.interfaces !== undefined;
    try {
      if (!wasOpen) device.open(false);
    } catch (e) {
      // Not readable (permissions, or a Windows driver that is not WinUSB): list it without strings.
      if (hasLibusbErrno(e)) return {};
      throw libusbErrorFrom('open', e);
    }
    const previousTimeout = device.timeout;
    device.timeout = STRING_TIMEOUT_MS;
    try {
      return {
        manufacturer: await readString(device, d.iManufacturer),
        product: await readString(device, d.iProduct),
        serialNumber: await readString(device, d.iSerialNumber),
      };
    } finally {
      device.timeout = previousTimeout;
      if (!wasOpen) device.close();
    }
  }
}

interface DeviceStrings {
  readonly manufacturer?: string | undefined;
  readonly product?: string | undefined;
  readonly serialNumber?: string | undefined;
}

function readString(device: DeviceLike, index: number): Promise<string | undefined> {
  if (index === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    try {
      // A string that fails to read (stall, timeout) is left out: listing must not fail on one bad string.
      device.getStringDescriptor(index, (error, value) => resolve(error ? undefined : value));
    } catch {
      resolve(undefined);
    }
  });
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function describeFilter(f: UsbDeviceFilter): string {
  const parts: string[] = [];
  if (f.vendorId !== undefined) parts.push(`VID 0x${hex4(f.vendorId)}`);
  if (f.productId !== undefined) parts.push(`PID 0x${hex4(f.productId)}`);
  if (f.serialNumber !== undefined) parts.push(`serial '${f.serialNumber}'`);
  if (f.interfaceClass !== undefined) parts.push(`interface class 0x${f.interfaceClass.toString(16)}`);
  if (f.interfaceNumber !== undefined) parts.push(`interface ${f.interfaceNumber}`);
  return parts.length === 0 ? 'any device' : parts.join(', ');
}

/** The filter fields that need no I/O (everything but the serial string). */
function matchesDescriptors(device: DeviceLike, f: UsbDeviceFilter): boolean {
  const d = device.deviceDescriptor;
  if (f.vendorId !== undefined && d.idVendor !== f.vendorId) return false;
  if (f.productId !== undefined && d.idProduct !== f.productId) return false;
  if (f.interfaceClass !== undefined || f.interfaceNumber !== undefined) {
    const ifaces = interfacesOf(device);
    if (f.interfaceClass !== undefined && !ifaces.some((i) => i.interfaceClass === f.interfaceClass)) return false;
    if (f.interfaceNumber !== undefined && !ifaces.some((i) => i.interfaceNumber === f.interfaceNumber)) return false;
  }
  return true;
}

function interfacesOf(device: DeviceLike): { interfaceNumber: number; interfaceClass: number }[] {
  let config;
  try {
    config = device.configDescriptor;
  } catch {
    // libusb could not read the active configuration (e.g. a Windows device without a usable driver).
    return [];
  }
  if (config === undefined) return [];
  const out: { interfaceNumber: number; interfaceClass: number }[] = [];
  for (const alts of config.interfaces) {
    const alt0 = alts.find((a) => a.bAlternateSetting === 0) ?? alts[0];
    if (alt0 !== undefined) out.push({ interfaceNumber: alt0.bInterfaceNumber, interfaceClass: alt0.bInterfaceClass });
  }
  return out;
}

/**
 * Speed from descriptors: node-usb 2.x's legacy API does not expose libusb_get_device_speed.
 * ASSUMPTION (USB 3.2 §9.6.1, USB 2.0 §5.8.3): bcdUSB ≥ 0x0300 with bMaxPacketSize0 = 9 (2^9) means
 * SuperSpeed; a bulk endpoint of 512 bytes means high speed; otherwise full speed (low speed devices
 * cannot be told apart this way and have no bulk endpoints).
 */
export function speedFromDescriptors(device: DeviceLike): UsbSpeed {
  const d = device.deviceDescriptor;
  if (d.bcdUSB >= 0x0300 && d.bMaxPacketSize0 === 9) return 'super';
  let config;
  try {
    config = device.configDescriptor;
  } catch {
    config = undefined;
  }
  for (const alts of config?.interfaces ?? []) {
    for (const alt of alts) {
      for (const ep of alt.endpoints) if ((ep.bmAttributes & 0x3) === 2 && (ep.wMaxPacketSize & 0x7ff) === 512) return 'high';
    }
  }
  return 'full';
}

/** A stable id for one attachment: `<bus>-<port path>` as Linux sysfs names it, or bus and address. */
export function deviceId(device: DeviceLike): string {
  const ports = device.portNumbers;
  return ports !== undefined && ports.length > 0 ? `${device.busNumber}-${ports.join('.')}` : `${device.busNumber}-@${device.deviceAddress}`;
}

function deviceInfo(device: DeviceLike, strings: DeviceStrings): UsbDeviceInfo {
  const d = device.deviceDescriptor;
  return {
    id: deviceId(device),
    busNumber: device.busNumber,
    deviceAddress: device.deviceAddress,
    vendorId: d.idVendor,
    productId: d.idProduct,
    deviceVersion: d.bcdDevice,
    speed: speedFromDescriptors(device),
    manufacturer: strings.manufacturer,
    product: strings.product,
    serialNumber: strings.serialNumber,
    interfaces: interfacesOf(device),
  };
}
