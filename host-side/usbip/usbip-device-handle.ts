/**
 * `UsbIpDeviceHandle`: a {@link UsbDeviceHandle} on a device imported over USB/IP. Transfers become
 * `USBIP_CMD_SUBMIT`s; their outcomes are read as libusb reads `urb->status` on Linux (usbip-status.ts).
 * Interface claims are the client's own bookkeeping (with vhci-hcd they live in the client's kernel too;
 * nothing crosses the wire). The standard requests behind `selectConfiguration`, `selectAlternate`,
 * `clearHalt` and `reset` go to the server as control URBs, which it runs as the matching calls of its host.
 *
 * @note Unlinked transfers report `actualLength` 0: `USBIP_RET_UNLINK` carries no length (the bytes a
 * cancelled transfer moved are lost on the wire, as with vhci-hcd).
 */
import { hex, USB_FEATURE, USB_REQUEST, type LibusbError, type UsbTransferType } from '../../core/index.js';
import { LIBUSB_ERROR, LIBUSB_TRANSFER, libusbError, type LibusbErrorName, type LibusbTransferName } from '../libusb-error.js';
import { buildSetup, encodeSetup } from '../setup-packet.js';
import type {
  UsbBulkInOptions,
  UsbBulkOutOptions,
  UsbControlSetup,
  UsbDeviceHandle,
  UsbDeviceInfo,
  UsbInResult,
  UsbOutResult,
  UsbTransferOptions,
} from '../usb-host.js';
import { SPECIAL_REQUEST_TYPES, USB_PORT_FEAT_RESET } from './usbip-descriptors.js';
import type { UsbIpImport } from './usbip-import.js';
import { URB_FLAG } from './usbip-protocol.js';
import { describeUsbIpStatus, requestErrorOfStatus, transferOutcomeOfStatus } from './usbip-status.js';
import type { UsbIpUrbEnd, UsbIpUrbRequest } from './usbip-urb-client.js';

const EMPTY = new Uint8Array(0);

function named(op: string, name: LibusbErrorName | LibusbTransferName, detail: string, endpoint?: number, actualLength?: number): LibusbError {
  const errno = name in LIBUSB_ERROR ? LIBUSB_ERROR[name as LibusbErrorName] : LIBUSB_TRANSFER[name as LibusbTransferName];
  return libusbError(op, errno, { endpoint, actualLength, detail });
}

export class UsbIpDeviceHandle implements UsbDeviceHandle {
  readonly #imp: UsbIpImport;
  readonly #defaultTimeoutMs: number;
  readonly #claimed = new Set<number>();
  /** seqnums of this handle's URBs in flight (cancelled on close). */
  readonly #pending = new Set<number>();
  #endpoints = new Map<number, UsbTransferType>();
  #endpointsVersion = -1;
  #closed = false;

  constructor(imp: UsbIpImport, defaultTimeoutMs: number) {
    this.#imp = imp;
    this.#defaultTimeoutMs = defaultTimeoutMs;
    imp.handles.add(this);
  }

  get info(): UsbDeviceInfo {
    return this.#imp.info;
  }

  #gone(op: string, endpoint?: number): LibusbError | undefined {
    if (this.#closed) return named(op, 'LIBUSB_ERROR_NO_DEVICE', 'the handle is closed: open the device again', endpoint);
    const lost = this.#imp.urb.lostReason;
    if (lost !== undefined) return named(op, 'LIBUSB_ERROR_NO_DEVICE', `the USB/IP connection is gone (${lost}): wait for the device and reopen`, endpoint);
    return undefined;
  }

  #timeout(options: UsbTransferOptions | undefined): number {
    return options?.timeoutMs ?? this.#defaultTimeoutMs;
  }

  // ---------------------------------------------------------------------------------------------
  // Transfers

  controlIn(setup: UsbControlSetup, length: number, options?: UsbTransferOptions): Promise<UsbInResult> {
    const gone = this.#gone('controlIn', 0x80);
    if (gone !== undefined) return Promise.reject(gone);
    const bytes = encodeSetup(buildSetup(setup, 'in', length));
    return this.#in('controlIn', 0x80, { ep: 0, dirIn: true, transferFlags: URB_FLAG.URB_DIR_IN, setup: bytes, length }, options);
  }

  controlOut(setup: UsbControlSetup, data: Uint8Array = EMPTY, options?: UsbTransferOptions): Promise<UsbOutResult> {
    const gone = this.#gone('controlOut', 0x00);
    if (gone !== undefined) return Promise.reject(gone);
    const bytes = encodeSetup(buildSetup(setup, 'out', data.length));
    return this.#out('controlOut', 0x00, { ep: 0, dirIn: false, transferFlags: 0, setup: bytes, length: data.length, data }, options);
  }

  bulkIn(endpoint: number, length: number, options?: UsbBulkInOptions): Promise<UsbInResult> {
    const bad = this.#checkEndpoint('bulkIn', endpoint, true, length);
    if (bad !== undefined) return Promise.reject(bad);
    const given = options?.buffer;
    if (given !== undefined && given.length < length) {
      return Promise.reject(named('bulkIn', 'LIBUSB_ERROR_INVALID_PARAM', `the receive buffer holds ${given.length} bytes, less than the ${length} asked for`, endpoint));
    }
    return this.#in('bulkIn', endpoint, { ep: endpoint & 0x0f, dirIn: true, transferFlags: URB_FLAG.URB_DIR_IN, length, receiveInto: given }, options);
  }

  bulkOut(endpoint: number, data: Uint8Array, options?: UsbBulkOutOptions): Promise<UsbOutResult> {
    const bad = this.#checkEndpoint('bulkOut', endpoint, false, data.length);
    if (bad !== undefined) return Promise.reject(bad);
    const flags = options?.zeroLengthPacket === true ? URB_FLAG.URB_ZERO_PACKET : 0;
    return this.#out('bulkOut', endpoint, { ep: endpoint & 0x0f, dirIn: false, transferFlags: flags, length: data.length, data }, options);
  }

  #checkEndpoint(op: string, endpoint: number, wantIn: boolean, length: number): LibusbError | undefined {
    const gone = this.#gone(op, endpoint);
    if (gone !== undefined) return gone;
    if (!Number.isInteger(length) || length < 0) return named(op, 'LIBUSB_ERROR_INVALID_PARAM', `length ${length} is not a byte count`, endpoint);
    if (((endpoint & 0x80) !== 0) !== wantIn || (endpoint & 0x0f) === 0 || (endpoint & 0x70) !== 0) {
      return named(op, 'LIBUSB_ERROR_INVALID_PARAM', `${hex(endpoint)} is not an ${wantIn ? 'IN (0x81–0x8F)' : 'OUT (0x01–0x0F)'} endpoint address`, endpoint);
    }
    const type = this.#endpointTable().get(endpoint);
    if (type === undefined) {
      return named(op, 'LIBUSB_ERROR_NOT_FOUND', `endpoint ${hex(endpoint)} is not in a claimed interface of the active configuration: claimInterface first`, endpoint);
    }
    if (type === 'isochronous') {
      return named(op, 'LIBUSB_ERROR_NOT_SUPPORTED', `endpoint ${hex(endpoint)} is isochronous: isochronous transfers are not supported over this USB/IP link (docs/usbip.md)`, endpoint);
    }
    return undefined;
  }

  #endpointTable(): Map<number, UsbTransferType> {
    if (this.#endpointsVersion !== this.#imp.version) {
      this.#endpoints = this.#imp.endpoints(this.#claimed);
      this.#endpointsVersion = this.#imp.version;
    }
    return this.#endpoints;
  }

  async #in(op: string, endpoint: number, req: UsbIpUrbRequest, options: UsbTransferOptions | undefined): Promise<UsbInResult> {
    const end = await this.#submit(req, options);
    if (end.kind === 'ret') {
      const o = transferOutcomeOfStatus(end.status);
      if (o.kind === 'resolved') return { status: o.status, data: o.status === 'stall' ? EMPTY : end.data };
      throw this.#failure(op, o.name, endpoint, end);
    }
    throw this.#failure(op, undefined, endpoint, end);
  }

  async #out(op: string, endpoint: number, req: UsbIpUrbRequest, options: UsbTransferOptions | undefined): Promise<UsbOutResult> {
    const end = await this.#submit(req, options);
    if (end.kind === 'ret') {
      const o = transferOutcomeOfStatus(end.status);
      if (o.kind === 'resolved') return { status: o.status, bytesWritten: end.actualLength };
      throw this.#failure(op, o.name, endpoint, end);
    }
    throw this.#failure(op, undefined, endpoint, end);
  }

  async #submit(req: UsbIpUrbRequest, options: UsbTransferOptions | undefined): Promise<UsbIpUrbEnd> {
    const { seqnum, done } = this.#imp.urb.submit(req, { timeoutMs: this.#timeout(options), signal: options?.signal });
    this.#pending.add(seqnum);
    try {
      return await done;
    } finally {
      this.#pending.delete(seqnum);
    }
  }

  #failure(op: string, name: LibusbTransferName | undefined, endpoint: number, end: UsbIpUrbEnd): LibusbError {
    switch (end.kind) {
      case 'ret':
        return named(op, name ?? 'LIBUSB_TRANSFER_ERROR', `the server completed the URB with status ${describeUsbIpStatus(end.status)}`, endpoint, end.actualLength);
      case 'unlinked':
        return end.why === 'timeout'
          ? named(op, 'LIBUSB_TRANSFER_TIMED_OUT', 'the transfer did not complete within its timeout and was unlinked (USBIP_CMD_UNLINK)', endpoint, 0)
          : named(op, 'LIBUSB_TRANSFER_CANCELLED', 'the transfer was cancelled (abort signal or close) and unlinked (USBIP_CMD_UNLINK)', endpoint, 0);
      case 'lost':
        return named(op, 'LIBUSB_TRANSFER_NO_DEVICE', `the USB/IP connection is gone (${end.reason})`, endpoint, 0);
    }
  }

  /** A standard request the server runs as a host call (no data stage). @throws LibusbError LIBUSB_ERROR_*. */
  async #request(op: string, bmRequestType: number, bRequest: number, wValue: number, wIndex: number, options: UsbTransferOptions | undefined): Promise<void> {
    const gone = this.#gone(op);
    if (gone !== undefined) throw gone;
    const setup = encodeSetup({ bmRequestType, bRequest, wValue, wIndex, wLength: 0 });
    const end = await this.#submit({ ep: 0, dirIn: false, transferFlags: 0, setup, length: 0 }, options);
    if (end.kind === 'ret' && end.status === 0) return;
    if (end.kind === 'ret') throw named(op, requestErrorOfStatus(end.status), `the server answered status ${describeUsbIpStatus(end.status)}`);
    if (end.kind === 'lost') throw named(op, 'LIBUSB_ERROR_NO_DEVICE', `the USB/IP connection is gone (${end.reason})`);
    throw named(op, end.why === 'timeout' ? 'LIBUSB_ERROR_TIMEOUT' : 'LIBUSB_ERROR_INTERRUPTED', `the request was unlinked (${end.why})`);
  }

  // ---------------------------------------------------------------------------------------------
  // Interfaces and configuration

  async claimInterface(interfaceNumber: number): Promise<void> {
    const gone = this.#gone('claimInterface');
    if (gone !== undefined) throw gone;
    const numbers = this.#imp.interfaceNumbers();
    if (!numbers.includes(interfaceNumber)) {
      throw named(
        'claimInterface',
        'LIBUSB_ERROR_NOT_FOUND',
        `interface ${interfaceNumber} does not exist in the active configuration (${numbers.length === 0 ? 'the device is unconfigured' : `it has ${numbers.join(', ')}`})`,
      );
    }
    const owner = this.#imp.claims.get(interfaceNumber);
    if (owner !== undefined && owner !== this) {
      throw named('claimInterface', 'LIBUSB_ERROR_BUSY', `interface ${interfaceNumber} is claimed by another handle: close or release it first`);
    }
    this.#imp.claims.set(interfaceNumber, this);
    this.#claimed.add(interfaceNumber);
    this.#endpointsVersion = -1;
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    const gone = this.#gone('releaseInterface');
    if (gone !== undefined) throw gone;
    if (!this.#claimed.has(interfaceNumber)) throw named('releaseInterface', 'LIBUSB_ERROR_NOT_FOUND', `interface ${interfaceNumber} is not claimed by this handle`);
    this.#claimed.delete(interfaceNumber);
    this.#imp.claims.delete(interfaceNumber);
    this.#endpointsVersion = -1;
  }

  async selectAlternate(interfaceNumber: number, alternateSetting: number, options?: UsbTransferOptions): Promise<void> {
    const gone = this.#gone('selectAlternate');
    if (gone !== undefined) throw gone;
    if (!this.#claimed.has(interfaceNumber)) throw named('selectAlternate', 'LIBUSB_ERROR_NOT_FOUND', `interface ${interfaceNumber} is not claimed: claimInterface first`);
    if (!this.#imp.alternateSettings(interfaceNumber).includes(alternateSetting)) {
      throw named('selectAlternate', 'LIBUSB_ERROR_NOT_FOUND', `interface ${interfaceNumber} has no alternate setting ${alternateSetting}`);
    }
    await this.#request('selectAlternate', SPECIAL_REQUEST_TYPES.setInterface, USB_REQUEST.SET_INTERFACE, alternateSetting, interfaceNumber, options);
    this.#imp.alternates.set(interfaceNumber, alternateSetting);
    this.#imp.version++;
  }

  async selectConfiguration(configurationValue: number, options?: UsbTransferOptions): Promise<void> {
    const gone = this.#gone('selectConfiguration');
    if (gone !== undefined) throw gone;
    const known = this.#imp.descriptors?.configurations.some((c) => c.bConfigurationValue === configurationValue) ?? false;
    if (configurationValue !== 0 && !known) throw named('selectConfiguration', 'LIBUSB_ERROR_NOT_FOUND', `the device has no configuration ${configurationValue}`);
    if (this.#imp.claims.size > 0) {
      throw named('selectConfiguration', 'LIBUSB_ERROR_BUSY', `interfaces ${[...this.#imp.claims.keys()].join(', ')} are claimed: release them first`);
    }
    await this.#request('selectConfiguration', SPECIAL_REQUEST_TYPES.setConfiguration, USB_REQUEST.SET_CONFIGURATION, configurationValue, 0, options);
    this.#imp.activeConfiguration = configurationValue;
    this.#imp.alternates.clear();
    this.#imp.version++;
  }

  async clearHalt(endpoint: number, options?: UsbTransferOptions): Promise<void> {
    const gone = this.#gone('clearHalt', endpoint);
    if (gone !== undefined) throw gone;
    if (!this.#imp.hasEndpoint(endpoint)) throw named('clearHalt', 'LIBUSB_ERROR_NOT_FOUND', `endpoint ${hex(endpoint)} is not in the active configuration`, endpoint);
    await this.#request('clearHalt', SPECIAL_REQUEST_TYPES.clearHalt, USB_REQUEST.CLEAR_FEATURE, USB_FEATURE.ENDPOINT_HALT, endpoint, options);
  }

  /**
   * Port reset on the exporting host (SET_FEATURE(PORT_RESET), which the server runs as its host's reset).
   * @throws LibusbError LIBUSB_ERROR_NOT_FOUND when the device came back different, LIBUSB_ERROR_NO_DEVICE when it is gone.
   */
  async reset(options?: UsbTransferOptions): Promise<void> {
    await this.#request('reset', SPECIAL_REQUEST_TYPES.portFeature, USB_REQUEST.SET_FEATURE, USB_PORT_FEAT_RESET, 1, options);
    this.#imp.alternates.clear();
    this.#imp.version++;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const seqnum of this.#pending) this.#imp.urb.cancel(seqnum);
    this.#claimed.clear();
    this.#imp.handleClosed(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
