/**
 * `UsbIpUsbHost`: the {@link UsbHost} seam over a USB/IP connection, in pure TypeScript (the role of
 * vhci-hcd plus usbfs, without a kernel): `listDevices` asks the server for `OP_REQ_DEVLIST`, `open` imports
 * the device (`OP_REQ_IMPORT`) and reads its descriptors over the link, transfers are pipelined URBs, a
 * timeout or an abort unlinks the URB. It runs the same UsbHost contract as NodeUsbHost and SimUsbHost.
 *
 * Outcomes as libusb's Linux backend reports them: -EPIPE → `stall`, -EOVERFLOW → `babble`, unlinked by
 * timeout → LIBUSB_TRANSFER_TIMED_OUT, by abort or close → LIBUSB_TRANSFER_CANCELLED, -ENODEV/-ESHUTDOWN
 * or the connection lost → LIBUSB_TRANSFER_NO_DEVICE (transfers) / LIBUSB_ERROR_NO_DEVICE (calls).
 *
 * @note USB/IP has no hotplug notification: `waitForDevice` and `hotplugEvents` poll the device list
 * (`pollIntervalMs`). The list carries no strings, so `listDevices` reports manufacturer, product and serial
 * number only for devices this host has opened (it reads them on open); interface numbers are taken as the
 * position in the list (ASSUMPTION: interfaces numbered 0..n-1 in descriptor order, as on most devices;
 * an opened handle's `info` has the numbers from the configuration descriptor).
 *
 * @see docs/usbip.md
 * @example
 * await using host = new UsbIpUsbHost({ host: '127.0.0.1', port: 3240 });
 * const info = await host.waitForDevice({ vendorId: 0x1209, productId: 0x0001 }, { timeoutMs: 5000 });
 * await using dev = await host.open(info);
 */
import { AbortedError, delay, RealClock, TimeoutError, withTimeout, type Clock, type UsbSpeed } from '../../core/index.js';
import { LIBUSB_ERROR, libusbError } from '../libusb-error.js';
import type { UsbDeviceFilter, UsbDeviceHandle, UsbDeviceInfo, UsbHost, UsbHotplugEvent, UsbOpenOptions } from '../usb-host.js';
import { requestDeviceList, requestImport, type UsbIpAddress } from './usbip-client-socket.js';
import { configurationByValue, readDescriptorSet, readDeviceStrings } from './usbip-descriptors.js';
import { UsbIpDeviceHandle } from './usbip-device-handle.js';
import { UsbIpImport } from './usbip-import.js';
import type { UsbIpDeviceRecord, UsbIpExportedDevice } from './usbip-op-codec.js';
import { USB_SPEED, USBIP_PORT } from './usbip-protocol.js';
import { UsbIpUrbClient, type UsbIpTraceEvent } from './usbip-urb-client.js';

export interface UsbIpUsbHostOptions {
  /** Server address. Default 127.0.0.1. */
  readonly host?: string | undefined;
  /** Server port. Default 3240. */
  readonly port?: number | undefined;
  /** Clock of every timeout. Default: real time. */
  readonly clock?: Clock | undefined;
  /** Per-transfer timeout when a call gives none. Default 5000 ms (as NodeUsbHost). */
  readonly defaultTimeoutMs?: number | undefined;
  /** Bound of one device-list request, and of `open` when it gives no timeout. Default 5000 ms. */
  readonly requestTimeoutMs?: number | undefined;
  /** How long the server may take to answer an unlink before the connection counts as dead. Default 2000 ms. */
  readonly unlinkTimeoutMs?: number | undefined;
  /** Re-list period of `waitForDevice` and `hotplugEvents`. Default 200 ms. */
  readonly pollIntervalMs?: number | undefined;
  /** Sees every URB-phase header sent and received (tests, diagnostics). */
  readonly trace?: ((event: UsbIpTraceEvent) => void) | undefined;
}

const SPEED_NAME: Readonly<Record<number, UsbSpeed>> = {
  [USB_SPEED.USB_SPEED_LOW]: 'low',
  [USB_SPEED.USB_SPEED_FULL]: 'full',
  [USB_SPEED.USB_SPEED_HIGH]: 'high',
  [USB_SPEED.USB_SPEED_WIRELESS]: 'high',
  [USB_SPEED.USB_SPEED_SUPER]: 'super',
  [USB_SPEED.USB_SPEED_SUPER_PLUS]: 'super',
};

/** Strings learned on open, by busid and ids. */
type Strings = Pick<UsbDeviceInfo, 'manufacturer' | 'product' | 'serialNumber'>;

function matches(info: UsbDeviceInfo, f: UsbDeviceFilter): boolean {
  if (f.vendorId !== undefined && info.vendorId !== f.vendorId) return false;
  if (f.productId !== undefined && info.productId !== f.productId) return false;
  if (f.serialNumber !== undefined && info.serialNumber !== f.serialNumber) return false;
  if (f.interfaceClass !== undefined && !info.interfaces.some((i) => i.interfaceClass === f.interfaceClass)) return false;
  if (f.interfaceNumber !== undefined && !info.interfaces.some((i) => i.interfaceNumber === f.interfaceNumber)) return false;
  return true;
}

export class UsbIpUsbHost implements UsbHost {
  readonly backend = 'usbip';
  readonly address: UsbIpAddress;
  readonly #clock: Clock;
  readonly #defaultTimeoutMs: number;
  readonly #requestTimeoutMs: number;
  readonly #unlinkTimeoutMs: number;
  readonly #pollIntervalMs: number;
  readonly #trace: ((event: UsbIpTraceEvent) => void) | undefined;
  /** Imports by busid (one connection per device, shared by its handles). */
  readonly #imports = new Map<string, Promise<UsbIpImport>>();
  /** The settled import behind each entry of #imports (a lost one is replaced, never reused). */
  readonly #live = new Map<string, UsbIpImport>();
  readonly #strings = new Map<string, Strings>();
  readonly #stop = new AbortController();

  constructor(options: UsbIpUsbHostOptions = {}) {
    this.address = { host: options.host ?? '127.0.0.1', port: options.port ?? USBIP_PORT };
    this.#clock = options.clock ?? new RealClock();
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 5000;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.#unlinkTimeoutMs = options.unlinkTimeoutMs ?? 2000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 200;
    this.#trace = options.trace;
  }

  /**
   * The devices the server exports that match `filter`.
   * @throws UsageError USBIP_UNREACHABLE (no server at the address), USBIP_PROTOCOL; TimeoutError.
   */
  async listDevices(filter: UsbDeviceFilter = {}): Promise<UsbDeviceInfo[]> {
    const list = await requestDeviceList(this.address, { clock: this.#clock, timeoutMs: this.#requestTimeoutMs, signal: this.#stop.signal });
    return list.map((d) => this.#info(d)).filter((i) => matches(i, filter));
  }

  /**
   * Polls the device list until a matching device is exported; an unreachable server counts as "not yet".
   * @throws TimeoutError after `timeoutMs` (its detail says why: no match, or the last connection error); AbortedError.
   */
  async waitForDevice(filter: UsbDeviceFilter, options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<UsbDeviceInfo> {
    const stop = new AbortController();
    let last = 'no matching device exported yet';
    const poll = (async (): Promise<UsbDeviceInfo> => {
      for (;;) {
        try {
          const found = (await this.listDevices(filter))[0];
          if (found !== undefined) return found;
          last = 'the server exports no matching device';
        } catch (err) {
          last = err instanceof Error ? err.message : String(err);
        }
        await delay(this.#clock, this.#pollIntervalMs, stop.signal);
      }
    })();
    const what = `a USB/IP device matching ${JSON.stringify(filter)} at ${this.address.host}:${this.address.port}`;
    try {
      return await withTimeout(this.#clock, poll, what, options.timeoutMs, { signal: options.signal, onGiveUp: () => stop.abort() });
    } catch (err) {
      // The detail is known only now: the last reason the device was not there.
      if (err instanceof TimeoutError) throw new TimeoutError(what, options.timeoutMs, last);
      throw err;
    } finally {
      stop.abort();
    }
  }

  /**
   * Imports the device (or joins this host's import of it) and opens a handle.
   * @throws LibusbError LIBUSB_ERROR_NO_DEVICE (not exported any more), LIBUSB_ERROR_BUSY (another client
   * imported it), LIBUSB_ERROR_IO; UsageError USBIP_UNREACHABLE; TimeoutError; AbortedError.
   */
  async open(device: UsbDeviceInfo, options: UsbOpenOptions = {}): Promise<UsbDeviceHandle> {
    if (options.signal?.aborted) throw new AbortedError(`open(${device.id})`, options.signal.reason);
    if (this.#stop.signal.aborted) throw libusbError('open', LIBUSB_ERROR.LIBUSB_ERROR_NO_DEVICE, { detail: 'the UsbIpUsbHost is closed' });
    for (;;) {
      let pending = this.#imports.get(device.id);
      if (pending === undefined) {
        pending = this.#import(device, options);
        this.#imports.set(device.id, pending);
        pending.catch(() => this.#imports.delete(device.id));
      }
      const imp = await pending;
      // A connection that died (or closed with its last handle) is not reused: import again.
      if (imp.urb.lostReason !== undefined) {
        if (this.#imports.get(device.id) === pending) this.#imports.delete(device.id);
        if (this.#live.get(device.id) === imp) this.#live.delete(device.id);
        continue;
      }
      return new UsbIpDeviceHandle(imp, this.#defaultTimeoutMs);
    }
  }

  async #import(device: UsbDeviceInfo, options: UsbOpenOptions): Promise<UsbIpImport> {
    // One deadline for the whole open: the import, then every descriptor read gets what is left of it.
    const deadline = this.#clock.now() + (options.timeoutMs ?? this.#requestTimeoutMs);
    const left = (): number => Math.max(1, deadline - this.#clock.now());
    const { socket, device: record } = await requestImport(this.address, device.id, { clock: this.#clock, timeoutMs: left(), signal: options.signal });
    const urb = new UsbIpUrbClient(socket, record, { clock: this.#clock, unlinkTimeoutMs: this.#unlinkTimeoutMs, trace: this.#trace });
    const imp: UsbIpImport = new UsbIpImport(urb, this.#info(record), record.bConfigurationValue, () => {
      // Its last handle closed: forget it (unless a newer import of the device replaced it already).
      if (this.#live.get(device.id) !== imp) return;
      this.#live.delete(device.id);
      this.#imports.delete(device.id);
    });
    // As usbcore does on attach: read the descriptors over the link, through a handle of the import itself.
    const boot = new UsbIpDeviceHandle(imp, this.#defaultTimeoutMs);
    try {
      const descriptors = await readDescriptorSet(boot, { timeoutMs: left(), signal: options.signal });
      const strings = await readDeviceStrings(boot, descriptors.deviceDescriptor, { timeoutMs: left(), signal: options.signal });
      imp.descriptors = descriptors;
      const configuration = configurationByValue(descriptors, imp.activeConfiguration);
      imp.info = {
        ...imp.info,
        ...strings,
        interfaces: (configuration?.interfaces ?? []).filter((i) => i.bAlternateSetting === 0).map((i) => ({ interfaceNumber: i.bInterfaceNumber, interfaceClass: i.bInterfaceClass })),
      };
      this.#strings.set(stringKey(imp.info), strings);
      // The boot handle leaves without closing the connection: the caller's handle joins right away.
      imp.handles.delete(boot);
      this.#live.set(device.id, imp);
      return imp;
    } catch (err) {
      urb.close('descriptor read failed');
      throw err;
    }
  }

  hotplugEvents(options: { signal?: AbortSignal | undefined } = {}): AsyncIterable<UsbHotplugEvent> {
    const list = (): Promise<UsbDeviceInfo[]> => this.listDevices();
    const clock = this.#clock;
    const pollMs = this.#pollIntervalMs;
    const hostStop = this.#stop.signal;
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.#stop.signal.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted || this.#stop.signal.aborted) stop.abort();
    const queue: UsbHotplugEvent[] = [];
    let wake: (() => void) | undefined;
    stop.signal.addEventListener('abort', () => wake?.(), { once: true });
    // Background poller: diffs the device list; the first list is the baseline ("from now on").
    void (async () => {
      let known: Map<string, UsbDeviceInfo> | undefined;
      while (!stop.signal.aborted) {
        let now: UsbDeviceInfo[] = [];
        try {
          now = await list();
        } catch {
          // Unreachable server: its devices are gone.
        }
        if (stop.signal.aborted) break;
        const next = new Map(now.map((i) => [`${i.id}/${i.vendorId}:${i.productId}`, i]));
        if (known !== undefined) {
          for (const [k, i] of known) if (!next.has(k)) queue.push({ type: 'detach', device: i });
          for (const [k, i] of next) if (!known.has(k)) queue.push({ type: 'attach', device: i });
          if (queue.length > 0) wake?.();
        }
        known = next;
        await delay(clock, pollMs, stop.signal).catch(() => undefined);
      }
      options.signal?.removeEventListener('abort', onAbort);
      hostStop.removeEventListener('abort', onAbort);
    })();
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<UsbHotplugEvent> => ({
        next: async (): Promise<IteratorResult<UsbHotplugEvent>> => {
          for (;;) {
            const e = queue.shift();
            if (e !== undefined) return { done: false, value: e };
            if (stop.signal.aborted) return { done: true, value: undefined };
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
          }
        },
        return: async (): Promise<IteratorResult<UsbHotplugEvent>> => {
          stop.abort();
          return { done: true, value: undefined };
        },
      }),
    };
  }

  /** Ends event delivery and closes every import (their handles' transfers end cancelled). */
  async close(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    const imports = [...this.#imports.values()];
    this.#imports.clear();
    this.#live.clear();
    for (const p of imports) {
      try {
        (await p).urb.close('the UsbIpUsbHost was closed');
      } catch {
        // That import never succeeded: nothing to close.
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #info(d: UsbIpDeviceRecord | UsbIpExportedDevice): UsbDeviceInfo {
    const base: UsbDeviceInfo = {
      id: d.busid,
      busNumber: d.busnum,
      deviceAddress: d.devnum,
      vendorId: d.idVendor,
      productId: d.idProduct,
      deviceVersion: d.bcdDevice,
      speed: SPEED_NAME[d.speed] ?? 'full',
      interfaces: 'interfaces' in d ? d.interfaces.map((i, n) => ({ interfaceNumber: n, interfaceClass: i.bInterfaceClass })) : [],
    };
    return { ...base, ...this.#strings.get(stringKey(base)) };
  }
}

function stringKey(i: Pick<UsbDeviceInfo, 'id' | 'vendorId' | 'productId'>): string {
  return `${i.id}/${i.vendorId}:${i.productId}`;
}
