/**
 * An open device on the virtual host (libusb_device_handle): control, bulk and interrupt transfers with
 * libusb's outcomes, interface claims, alternate settings, clear-halt and reset.
 *
 * @see host-side/usb-host.ts (UsbDeviceHandle), docs/architecture.md#outcomes
 */
import { bmRequestType, endpointIndex, hex, USB_FEATURE, USB_REQUEST, type LibusbError } from '../../../core/index.js';
import {
  buildSetup,
  encodeSetup,
  type UsbBulkInOptions,
  type UsbBulkOutOptions,
  type UsbControlSetup,
  type UsbDeviceHandle,
  type UsbDeviceInfo,
  type UsbInResult,
  type UsbOutResult,
  type UsbTransferOptions,
} from '../../../host-side/index.js';
import { IntrusiveList } from '../../runtime/index.js';
import type { UrbOutcome } from '../link-contract.js';
import { allocBuffer, HostUrb } from './host-urb.js';
import { type LibusbErrorName, type LibusbTransferName, libusbError } from './libusb-codes.js';
import type { EnumeratedDevice, SimPort, SimUsbHost } from './sim-usb-host.js';
import { UrbRun } from './urb-run.js';

const EMPTY = new Uint8Array(0);

interface EndpointInfo {
  readonly interfaceNumber: number;
  readonly type: 'bulk' | 'interrupt' | 'isochronous' | 'control';
}

/** libusb transfer status for a failed URB outcome. */
function transferFailure(outcome: UrbOutcome): LibusbTransferName {
  switch (outcome) {
    case 'timeout':
      return 'LIBUSB_TRANSFER_TIMED_OUT';
    case 'noDevice':
      return 'LIBUSB_TRANSFER_NO_DEVICE';
    case 'cancelled':
    case 'reset':
      return 'LIBUSB_TRANSFER_CANCELLED';
    default:
      return 'LIBUSB_TRANSFER_ERROR';
  }
}

const TRANSFER_DETAIL: Readonly<Record<string, string>> = {
  LIBUSB_TRANSFER_TIMED_OUT: 'the device did not complete the transfer in time (it kept NAKing)',
  LIBUSB_TRANSFER_NO_DEVICE: 'the device went away during the transfer',
  LIBUSB_TRANSFER_CANCELLED: 'the transfer was cancelled (abort signal, close, or a port reset)',
  LIBUSB_TRANSFER_ERROR: 'the transfer failed',
};

/** libusb error for a synchronous-style request (set configuration/interface, clear halt) that failed. */
function requestFailure(outcome: UrbOutcome): LibusbErrorName {
  switch (outcome) {
    case 'stall':
      return 'LIBUSB_ERROR_PIPE';
    case 'timeout':
      return 'LIBUSB_ERROR_TIMEOUT';
    case 'noDevice':
      return 'LIBUSB_ERROR_NO_DEVICE';
    case 'cancelled':
    case 'reset':
      return 'LIBUSB_ERROR_INTERRUPTED';
    default:
      return 'LIBUSB_ERROR_IO';
  }
}

export class SimUsbDeviceHandle implements UsbDeviceHandle {
  readonly info: UsbDeviceInfo;
  readonly #host: SimUsbHost;
  readonly #port: SimPort;
  readonly #dev: EnumeratedDevice;
  readonly #claimed = new Set<number>();
  /** URBs in flight (an intrusive list: no Set churn per transfer, see simulator/runtime/intrusive-list.ts). */
  readonly #pending = new IntrusiveList<HostUrb>();
  #endpoints: (EndpointInfo | undefined)[] = new Array<EndpointInfo | undefined>(32);
  #closed = false;

  constructor(host: SimUsbHost, port: SimPort, dev: EnumeratedDevice) {
    this.#host = host;
    this.#port = port;
    this.#dev = dev;
    this.info = dev.info;
  }

  #gone(op: string, endpoint?: number): LibusbError | undefined {
    if (this.#closed) return libusbError(op, 'LIBUSB_ERROR_NO_DEVICE', 'the handle is closed: open the device again', endpoint);
    if (this.#port.device !== this.#dev) {
      return libusbError(op, 'LIBUSB_ERROR_NO_DEVICE', `device ${this.info.id} is gone (unplugged or re-enumerated): wait for it again and reopen`, endpoint);
    }
    return undefined;
  }

  #timeout(options: UsbTransferOptions | undefined): number {
    return options?.timeoutMs ?? this.#host.defaultTimeoutMs;
  }

  // ---------------------------------------------------------------------------------------------
  // Control

  controlIn(setup: UsbControlSetup, length: number, options?: UsbTransferOptions): Promise<UsbInResult> {
    const gone = this.#gone('controlIn', 0x80);
    if (gone !== undefined) return Promise.reject(gone);
    const bytes = encodeSetup(buildSetup(setup, 'in', length));
    const urb = new HostUrb({ transferType: 'control', endpoint: 0x80, buffer: allocBuffer(length), setup: bytes });
    return this.#inTransfer(urb, 'controlIn', options);
  }

  controlOut(setup: UsbControlSetup, data: Uint8Array = EMPTY, options?: UsbTransferOptions): Promise<UsbOutResult> {
    const gone = this.#gone('controlOut', 0x00);
    if (gone !== undefined) return Promise.reject(gone);
    const bytes = encodeSetup(buildSetup(setup, 'out', data.length));
    const urb = new HostUrb({ transferType: 'control', endpoint: 0x00, buffer: data, setup: bytes });
    return this.#outTransfer(urb, 'controlOut', options);
  }

  // ---------------------------------------------------------------------------------------------
  // Bulk / interrupt

  bulkIn(endpoint: number, length: number, options?: UsbBulkInOptions): Promise<UsbInResult> {
    const ep = this.#checkEndpoint('bulkIn', endpoint, true, length);
    if (ep instanceof Error) return Promise.reject(ep);
    const given = options?.buffer;
    if (given !== undefined && given.length < length) {
      return Promise.reject(
        libusbError('bulkIn', 'LIBUSB_ERROR_INVALID_PARAM', `the receive buffer holds ${given.length} bytes, less than the ${length} asked for`, endpoint),
      );
    }
    const buffer = given === undefined ? allocBuffer(length) : given.length === length ? given : given.subarray(0, length);
    const urb = new HostUrb({ transferType: ep.type === 'interrupt' ? 'interrupt' : 'bulk', endpoint, buffer });
    return this.#inTransfer(urb, 'bulkIn', options);
  }

  bulkOut(endpoint: number, data: Uint8Array, options?: UsbBulkOutOptions): Promise<UsbOutResult> {
    const ep = this.#checkEndpoint('bulkOut', endpoint, false, data.length);
    if (ep instanceof Error) return Promise.reject(ep);
    const urb = new HostUrb({
      transferType: ep.type === 'interrupt' ? 'interrupt' : 'bulk',
      endpoint,
      buffer: data,
      zeroPacket: options?.zeroLengthPacket ?? false,
    });
    return this.#outTransfer(urb, 'bulkOut', options);
  }

  #checkEndpoint(op: string, endpoint: number, wantIn: boolean, length: number): EndpointInfo | LibusbError {
    const gone = this.#gone(op, endpoint);
    if (gone !== undefined) return gone;
    if (!Number.isInteger(length) || length < 0) {
      return libusbError(op, 'LIBUSB_ERROR_INVALID_PARAM', `length ${length} is not a byte count`, endpoint);
    }
    if (((endpoint & 0x80) !== 0) !== wantIn || (endpoint & 0x0f) === 0 || (endpoint & 0x70) !== 0) {
      return libusbError(op, 'LIBUSB_ERROR_INVALID_PARAM', `${hex(endpoint)} is not an ${wantIn ? 'IN (0x81–0x8F)' : 'OUT (0x01–0x0F)'} endpoint address`, endpoint);
    }
    const ep = this.#endpoints[endpointIndex(endpoint)];
    if (ep === undefined) {
      return libusbError(
        op,
        'LIBUSB_ERROR_NOT_FOUND',
        `endpoint ${hex(endpoint)} is not in a claimed interface of the active configuration: claimInterface first`,
        endpoint,
      );
    }
    return ep;
  }

  #inTransfer(urb: HostUrb, op: string, options: UsbTransferOptions | undefined): Promise<UsbInResult> {
    return this.#transfer(urb, op, true, options) as Promise<UsbInResult>;
  }

  #outTransfer(urb: HostUrb, op: string, options: UsbTransferOptions | undefined): Promise<UsbOutResult> {
    return this.#transfer(urb, op, false, options) as Promise<UsbOutResult>;
  }

  /** Submits `urb`; settles with the libusb-shaped outcome (HandleUrbRun maps it). */
  #transfer(urb: HostUrb, op: string, isIn: boolean, options: UsbTransferOptions | undefined): Promise<UsbInResult | UsbOutResult> {
    const run = new HandleUrbRun(this, op, isIn);
    this.#pending.add(urb);
    run.start(this.#host.clock, this.#port.bus, urb, this.#timeout(options), options?.signal);
    return run.result;
  }

  /** @internal A URB of this handle finished: maps its outcome to libusb's (HandleUrbRun). */
  urbSettled(run: HandleUrbRun, u: HostUrb): void {
    this.#pending.delete(u);
    const o = u.outcome;
    if (run.isIn) {
      if (o === 'ok' || o === 'babble') run.resolve({ status: o, data: u.buffer.subarray(0, u.actual) });
      else if (o === 'stall') run.resolve({ status: 'stall', data: EMPTY });
      else run.reject(this.#transferError(run.op, u));
    } else if (o === 'ok' || o === 'babble' || o === 'stall') run.resolve({ status: o, bytesWritten: u.actual });
    else run.reject(this.#transferError(run.op, u));
  }

  #transferError(op: string, urb: HostUrb): LibusbError {
    const name = transferFailure(urb.outcome);
    return libusbError(op, name, TRANSFER_DETAIL[name] ?? name, urb.endpoint, urb.actual);
  }

  // ---------------------------------------------------------------------------------------------
  // Interfaces and configuration

  async claimInterface(interfaceNumber: number): Promise<void> {
    const gone = this.#gone('claimInterface');
    if (gone !== undefined) throw gone;
    if (!this.#interfaceExists(interfaceNumber)) {
      throw libusbError(
        'claimInterface',
        'LIBUSB_ERROR_NOT_FOUND',
        `interface ${interfaceNumber} does not exist in the active configuration (${this.#dev.activeConfiguration === 0 ? 'the device is unconfigured' : `it has ${this.#interfaceNumbers().join(', ')}`})`,
      );
    }
    const owner = this.#port.claims.get(interfaceNumber);
    if (owner !== undefined && owner !== this) {
      throw libusbError('claimInterface', 'LIBUSB_ERROR_BUSY', `interface ${interfaceNumber} is claimed by another handle: close or release it first`);
    }
    this.#port.claims.set(interfaceNumber, this);
    this.#claimed.add(interfaceNumber);
    this.#rebuildEndpoints();
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    const gone = this.#gone('releaseInterface');
    if (gone !== undefined) throw gone;
    if (!this.#claimed.has(interfaceNumber)) {
      throw libusbError('releaseInterface', 'LIBUSB_ERROR_NOT_FOUND', `interface ${interfaceNumber} is not claimed by this handle`);
    }
    this.#release(interfaceNumber);
    this.#rebuildEndpoints();
  }

  #release(interfaceNumber: number): void {
    this.#claimed.delete(interfaceNumber);
    if (this.#port.claims.get(interfaceNumber) === this) this.#port.claims.delete(interfaceNumber);
  }

  async selectAlternate(interfaceNumber: number, alternateSetting: number, options?: UsbTransferOptions): Promise<void> {
    const gone = this.#gone('selectAlternate');
    if (gone !== undefined) throw gone;
    if (!this.#claimed.has(interfaceNumber)) {
      throw libusbError('selectAlternate', 'LIBUSB_ERROR_NOT_FOUND', `interface ${interfaceNumber} is not claimed: claimInterface first`);
    }
    const alts = this.#dev.configuration.interfaces.filter((i) => i.bInterfaceNumber === interfaceNumber);
    if (!alts.some((i) => i.bAlternateSetting === alternateSetting)) {
      throw libusbError('selectAlternate', 'LIBUSB_ERROR_NOT_FOUND', `interface ${interfaceNumber} has no alternate setting ${alternateSetting}`);
    }
    const urb = await this.#host.control(this.#port, bmRequestType('out', 'standard', 'interface'), USB_REQUEST.SET_INTERFACE, alternateSetting, interfaceNumber, 0, this.#timeout(options), options?.signal);
    // Linux usb_set_interface ignores a stall from an interface with a single setting (USB 2.0 §9.4.10 allows it).
    if (urb.outcome !== 'ok' && !(urb.outcome === 'stall' && alts.length === 1)) {
      throw libusbError('selectAlternate', urb.outcome === 'stall' ? 'LIBUSB_ERROR_OTHER' : requestFailure(urb.outcome), `SET_INTERFACE(${interfaceNumber}, ${alternateSetting}) ended with ${urb.outcome}`);
    }
    this.#dev.alternates.set(interfaceNumber, alternateSetting);
    this.#rebuildEndpoints();
  }

  async selectConfiguration(configurationValue: number, options?: UsbTransferOptions): Promise<void> {
    const gone = this.#gone('selectConfiguration');
    if (gone !== undefined) throw gone;
    if (configurationValue !== 0 && configurationValue !== this.#dev.configuration.bConfigurationValue) {
      throw libusbError('selectConfiguration', 'LIBUSB_ERROR_NOT_FOUND', `the device has no configuration ${configurationValue}`);
    }
    if (this.#port.claims.size > 0) {
      throw libusbError('selectConfiguration', 'LIBUSB_ERROR_BUSY', `interfaces ${[...this.#port.claims.keys()].join(', ')} are claimed: release them first`);
    }
    const urb = await this.#host.control(this.#port, bmRequestType('out', 'standard', 'device'), USB_REQUEST.SET_CONFIGURATION, configurationValue, 0, 0, this.#timeout(options), options?.signal);
    if (urb.outcome !== 'ok') {
      throw libusbError('selectConfiguration', requestFailure(urb.outcome), `SET_CONFIGURATION(${configurationValue}) ended with ${urb.outcome}`);
    }
    this.#dev.activeConfiguration = configurationValue;
    this.#dev.alternates.clear();
    this.#rebuildEndpoints();
  }

  async clearHalt(endpoint: number, options?: UsbTransferOptions): Promise<void> {
    const gone = this.#gone('clearHalt', endpoint);
    if (gone !== undefined) throw gone;
    if (!this.#endpointInConfiguration(endpoint)) {
      throw libusbError('clearHalt', 'LIBUSB_ERROR_NOT_FOUND', `endpoint ${hex(endpoint)} is not in the active configuration`, endpoint);
    }
    // CLEAR_FEATURE(ENDPOINT_HALT) to the endpoint (USB 2.0 §9.4.1); the host side resets its toggle too.
    const urb = await this.#host.control(this.#port, bmRequestType('out', 'standard', 'endpoint'), USB_REQUEST.CLEAR_FEATURE, USB_FEATURE.ENDPOINT_HALT, endpoint, 0, this.#timeout(options), options?.signal);
    if (urb.outcome !== 'ok') {
      throw libusbError('clearHalt', requestFailure(urb.outcome), `CLEAR_FEATURE(ENDPOINT_HALT) on ${hex(endpoint)} ended with ${urb.outcome}`, endpoint);
    }
  }

  /**
   * Port reset and re-enumeration at the same address (libusb_reset_device): pending transfers end
   * LIBUSB_TRANSFER_CANCELLED; if the descriptors are unchanged the configuration and alternate settings
   * are restored and the handle stays valid.
   * @throws LibusbError LIBUSB_ERROR_NOT_FOUND when the device came back different (re-enumerated as a new
   * device) or did not come back; LIBUSB_ERROR_NO_DEVICE when it is gone.
   */
  async reset(options?: UsbTransferOptions): Promise<void> {
    const gone = this.#gone('reset');
    if (gone !== undefined) throw gone;
    const port = this.#port;
    const gen = port.generation;
    let fresh: EnumeratedDevice | undefined;
    try {
      fresh = await this.#host.enumerate(port, gen, this.#dev.address, true);
    } catch (err) {
      if (gen !== port.generation) throw libusbError('reset', 'LIBUSB_ERROR_NO_DEVICE', 'the device went away during the reset');
      throw libusbErrorWithCause('reset', 'LIBUSB_ERROR_NOT_FOUND', 'the device did not re-enumerate after the reset', err);
    }
    if (fresh === undefined || gen !== port.generation) throw libusbError('reset', 'LIBUSB_ERROR_NO_DEVICE', 'the device went away during the reset');
    if (!sameBytes(fresh.deviceDescriptorBytes, this.#dev.deviceDescriptorBytes) || !sameBytes(fresh.configurationBytes, this.#dev.configurationBytes)) {
      // Descriptors changed: the device is a new one (Linux usb_reset_device → logical disconnect).
      port.disconnected();
      port.connected();
      throw libusbError('reset', 'LIBUSB_ERROR_NOT_FOUND', 'the descriptors changed across the reset: the device re-enumerates as a new device; wait for it and reopen');
    }
    const timeoutMs = this.#timeout(options);
    if (this.#dev.activeConfiguration !== fresh.activeConfiguration) {
      const urb = await this.#host.control(port, bmRequestType('out', 'standard', 'device'), USB_REQUEST.SET_CONFIGURATION, this.#dev.activeConfiguration, 0, 0, timeoutMs, options?.signal);
      if (urb.outcome !== 'ok') throw libusbError('reset', requestFailure(urb.outcome), 'restoring the configuration after the reset failed');
    }
    for (const [ifnum, alt] of this.#dev.alternates) {
      if (alt === 0) continue;
      const urb = await this.#host.control(port, bmRequestType('out', 'standard', 'interface'), USB_REQUEST.SET_INTERFACE, alt, ifnum, 0, timeoutMs, options?.signal);
      if (urb.outcome !== 'ok') throw libusbError('reset', requestFailure(urb.outcome), `restoring alternate setting ${alt} of interface ${ifnum} failed`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const urb of this.#pending.toArray()) this.#port.bus.cancel(urb, 'cancelled');
    for (const n of [...this.#claimed]) this.#release(n);
    this.#port.handles.delete(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------------------------------------

  #interfaceNumbers(): number[] {
    if (this.#dev.activeConfiguration === 0) return [];
    return [...new Set(this.#dev.configuration.interfaces.map((i) => i.bInterfaceNumber))];
  }

  #interfaceExists(n: number): boolean {
    return this.#interfaceNumbers().includes(n);
  }

  #endpointInConfiguration(endpoint: number): boolean {
    if (this.#dev.activeConfiguration === 0) return false;
    for (const i of this.#dev.configuration.interfaces) {
      if (i.bAlternateSetting !== (this.#dev.alternates.get(i.bInterfaceNumber) ?? 0)) continue;
      if (i.endpoints.some((e) => e.bEndpointAddress === endpoint)) return true;
    }
    return false;
  }

  #rebuildEndpoints(): void {
    const table = new Array<EndpointInfo | undefined>(32);
    if (this.#dev.activeConfiguration !== 0) {
      for (const i of this.#dev.configuration.interfaces) {
        if (!this.#claimed.has(i.bInterfaceNumber)) continue;
        if (i.bAlternateSetting !== (this.#dev.alternates.get(i.bInterfaceNumber) ?? 0)) continue;
        for (const e of i.endpoints) table[endpointIndex(e.bEndpointAddress)] = { interfaceNumber: i.bInterfaceNumber, type: e.transferType };
      }
    }
    this.#endpoints = table;
  }
}

/** A transfer of a {@link SimUsbDeviceHandle}: the URB's run, whose result is the caller's promise. */
class HandleUrbRun extends UrbRun<UsbInResult | UsbOutResult> {
  constructor(
    readonly handle: SimUsbDeviceHandle,
    readonly op: string,
    readonly isIn: boolean,
  ) {
    super();
  }
  protected settle(urb: HostUrb): void {
    this.handle.urbSettled(this, urb);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function libusbErrorWithCause(op: string, name: LibusbErrorName, detail: string, cause: unknown): LibusbError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return libusbError(op, name, `${detail} (${reason})`, undefined, undefined, cause);
}
