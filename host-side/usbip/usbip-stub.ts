/**
 * `UsbIpStub`: the server's side of one import, in the role of Linux's `usbip-host` stub driver. It holds
 * the exported device open through the {@link UsbHost} (every interface of the active configuration
 * claimed: the importer owns the whole device) and runs each `USBIP_CMD_SUBMIT` as a call of the seam:
 *
 * - EP0 → `controlIn` / `controlOut`, except the standard requests the Linux stub handles itself
 *   (drivers/usb/usbip/stub_rx.c): CLEAR_FEATURE(ENDPOINT_HALT) → `clearHalt`, SET_INTERFACE →
 *   `selectAlternate`, SET_CONFIGURATION → `selectConfiguration`, SET_FEATURE(PORT_RESET) to a port →
 *   `reset`; and SET_ADDRESS, which the exporting host owns, is answered without reaching the device;
 * - bulk and interrupt endpoints → `bulkIn` / `bulkOut` (URB_ZERO_PACKET → `zeroLengthPacket`, kept for bulk
 *   OUT only; URB_SHORT_NOT_OK, kept for IN only, turns a short completion into -EREMOTEIO as a Linux host
 *   controller reports it);
 * - isochronous endpoints: refused with -EOPNOTSUPP (out of scope: the seam has no isochronous transfers).
 *
 * Outcomes become the URB status Linux reports (usbip-status.ts).
 */
import { hex, isInEndpoint, USB_FEATURE, USB_REQUEST, type UsbRecipient, type UsbRequestType, type UsbTransferType } from '../../core/index.js';
import type { UsbDeviceHandle, UsbHost, UsbInResult, UsbOutResult } from '../usb-host.js';
import { configurationByValue, endpointTypes, SPECIAL_REQUEST_TYPES, USB_PORT_FEAT_RESET } from './usbip-descriptors.js';
import type { UsbIpExport } from './usbip-exports.js';
import { URB_FLAG, USBIP_DIR } from './usbip-protocol.js';
import { usbipStatus, usbipStatusOfError, usbipStatusOfResult } from './usbip-status.js';
import type { UsbIpCmdSubmit } from './usbip-urb-codec.js';

/** How a URB ended: the RET_SUBMIT fields. */
export interface UsbIpUrbResult {
  /** 0 or a negative Linux errno. */
  readonly status: number;
  readonly actualLength: number;
  /** IN transfers: the bytes received (`actualLength` of them). */
  readonly data?: Uint8Array | undefined;
}

const REQUEST_TYPES: readonly (UsbRequestType | undefined)[] = ['standard', 'class', 'vendor', undefined];
const RECIPIENTS: readonly (UsbRecipient | undefined)[] = ['device', 'interface', 'endpoint', 'other'];

export class UsbIpStub {
  readonly export: UsbIpExport;
  /** `(busnum << 16) | devnum`: the devid every URB of this import must carry. */
  readonly devid: number;
  readonly #handle: UsbDeviceHandle;
  readonly #transferTimeoutMs: number;
  readonly #claimed = new Set<number>();
  readonly #alternates = new Map<number, number>();
  #endpoints = new Map<number, UsbTransferType>();
  #closed = false;

  private constructor(exp: UsbIpExport, handle: UsbDeviceHandle, transferTimeoutMs: number) {
    this.export = exp;
    this.devid = ((exp.info.busNumber << 16) | (exp.info.deviceAddress & 0xffff)) >>> 0;
    this.#handle = handle;
    this.#transferTimeoutMs = transferTimeoutMs;
  }

  /**
   * Opens the exported device and claims every interface of its active configuration.
   * @param transferTimeoutMs per-URB timeout on the exporting host; 0 = none (the importer times out and unlinks, as with Linux's stub).
   * @throws LibusbError from `open` / `claimInterface` (LIBUSB_ERROR_BUSY when another program holds an interface).
   */
  static async open(host: UsbHost, exp: UsbIpExport, options: { timeoutMs: number; transferTimeoutMs: number }): Promise<UsbIpStub> {
    const handle = await host.open(exp.info, { timeoutMs: options.timeoutMs });
    const stub = new UsbIpStub(exp, handle, options.transferTimeoutMs);
    try {
      await stub.#claimAll();
    } catch (err) {
      await stub.close();
      throw err;
    }
    return stub;
  }

  /**
   * Whether a URB is one of the standard requests this stub runs as a seam call (they change the device's
   * state: the session runs them one at a time, before it reads the next message, as stub_rx.c does).
   */
  isSpecialRequest(cmd: UsbIpCmdSubmit): boolean {
    if ((cmd.ep & 0x0f) !== 0) return false;
    const [bm, bRequest, wValueLow = 0, wValueHigh = 0] = cmd.setup;
    const wValue = wValueLow | (wValueHigh << 8);
    return (
      (bm === SPECIAL_REQUEST_TYPES.clearHalt && bRequest === USB_REQUEST.CLEAR_FEATURE && wValue === USB_FEATURE.ENDPOINT_HALT) ||
      (bm === SPECIAL_REQUEST_TYPES.setInterface && bRequest === USB_REQUEST.SET_INTERFACE) ||
      (bm === SPECIAL_REQUEST_TYPES.setConfiguration && bRequest === USB_REQUEST.SET_CONFIGURATION) ||
      (bm === SPECIAL_REQUEST_TYPES.portFeature && bRequest === USB_REQUEST.SET_FEATURE && wValue === USB_PORT_FEAT_RESET)
    );
  }

  /** The transfer type of an endpoint address of the current setting (`0x00`/`0x80` → control), or undefined. */
  endpointType(address: number): UsbTransferType | undefined {
    if ((address & 0x0f) === 0) return 'control';
    return this.#endpoints.get(address);
  }

  /**
   * Runs one URB. Never rejects: every outcome is a status.
   * @param payload the OUT transfer buffer (`transfer_buffer_length` bytes), empty for IN.
   * @param signal aborted by a CMD_UNLINK of this URB (the host call is cancelled: -ECONNRESET).
   * @param receive for a bulk/interrupt IN: receive into this buffer (`transfer_buffer_length` bytes).
   */
  async submit(cmd: UsbIpCmdSubmit, payload: Uint8Array, signal: AbortSignal, receive?: Uint8Array): Promise<UsbIpUrbResult> {
    const address = (cmd.ep & 0x0f) | (cmd.direction === USBIP_DIR.USBIP_DIR_IN ? 0x80 : 0);
    const type = this.endpointType(address);
    try {
      switch (type) {
        case 'control':
          return await this.#control(cmd, payload, signal);
        case 'bulk':
        case 'interrupt':
          return await this.#bulk(cmd, address, type, payload, signal, receive);
        default:
          // Isochronous (or an endpoint that vanished with a new setting after the session checked it).
          return { status: usbipStatus(type === 'isochronous' ? 'EOPNOTSUPP' : 'ENOENT'), actualLength: 0 };
      }
    } catch (err) {
      return { status: usbipStatusOfError(err), actualLength: 0 };
    }
  }

  /** Releases the claims and closes the handle. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close();
  }

  // ---------------------------------------------------------------------------------------------

  async #bulk(cmd: UsbIpCmdSubmit, address: number, type: 'bulk' | 'interrupt', payload: Uint8Array, signal: AbortSignal, receive: Uint8Array | undefined): Promise<UsbIpUrbResult> {
    const options = { timeoutMs: this.#transferTimeoutMs, signal };
    if (isInEndpoint(address)) {
      const r = await this.#handle.bulkIn(address, cmd.transferBufferLength, { ...options, buffer: receive });
      return this.#inResult(cmd, r);
    }
    // stub_rx.c masking_bogus_flags: URB_ZERO_PACKET only counts for bulk OUT.
    const zlp = type === 'bulk' && (cmd.transferFlags & URB_FLAG.URB_ZERO_PACKET) !== 0;
    const r = await this.#handle.bulkOut(address, payload, { ...options, zeroLengthPacket: zlp });
    return outResult(r);
  }

  #inResult(cmd: UsbIpCmdSubmit, r: UsbInResult): UsbIpUrbResult {
    let status = usbipStatusOfResult(r.status);
    // A short completion of a URB that asked for URB_SHORT_NOT_OK (IN only) is -EREMOTEIO, data kept.
    if (status === 0 && (cmd.transferFlags & URB_FLAG.URB_SHORT_NOT_OK) !== 0 && r.data.length < cmd.transferBufferLength) status = usbipStatus('EREMOTEIO');
    return { status, actualLength: r.data.length, data: r.data };
  }

  async #control(cmd: UsbIpCmdSubmit, payload: Uint8Array, signal: AbortSignal): Promise<UsbIpUrbResult> {
    const s = cmd.setup;
    const bm = s[0]!;
    const bRequest = s[1]!;
    const wValue = s[2]! | (s[3]! << 8);
    const wIndex = s[4]! | (s[5]! << 8);
    const wLength = s[6]! | (s[7]! << 8);
    const options = { timeoutMs: this.#transferTimeoutMs, signal };
    const special = await this.#special(bm, bRequest, wValue, wIndex, options);
    if (special !== undefined) return special;
    const requestType = REQUEST_TYPES[(bm >> 5) & 0x03];
    const recipient = RECIPIENTS[bm & 0x1f];
    if (requestType === undefined || recipient === undefined) {
      // The seam has no words for a reserved type or recipient; a device would stall it.
      return { status: usbipStatus('EPIPE'), actualLength: 0 };
    }
    const setup = { requestType, recipient, request: bRequest, value: wValue, index: wIndex };
    if ((bm & 0x80) !== 0) return this.#inResult(cmd, await this.#handle.controlIn(setup, wLength, options));
    return outResult(await this.#handle.controlOut(setup, payload, options));
  }

  /** The requests stub_rx.c intercepts, as seam calls; undefined for any other request. */
  async #special(bm: number, bRequest: number, wValue: number, wIndex: number, options: { timeoutMs: number; signal: AbortSignal }): Promise<UsbIpUrbResult | undefined> {
    const done: UsbIpUrbResult = { status: 0, actualLength: 0 };
    if (bm === SPECIAL_REQUEST_TYPES.clearHalt && bRequest === USB_REQUEST.CLEAR_FEATURE && wValue === USB_FEATURE.ENDPOINT_HALT) {
      await this.#handle.clearHalt(wIndex & 0x8f, options);
      return done;
    }
    if (bm === SPECIAL_REQUEST_TYPES.setInterface && bRequest === USB_REQUEST.SET_INTERFACE) {
      const ifnum = wIndex & 0xff;
      await this.#handle.selectAlternate(ifnum, wValue, options);
      this.#alternates.set(ifnum, wValue);
      this.#rebuildEndpoints();
      return done;
    }
    if (bm === SPECIAL_REQUEST_TYPES.setConfiguration && bRequest === USB_REQUEST.SET_CONFIGURATION) {
      await this.#releaseAll();
      try {
        await this.#handle.selectConfiguration(wValue & 0xff, options);
        this.export.activeConfiguration = wValue & 0xff;
      } finally {
        // Whatever the outcome, the importer keeps owning the interfaces of the configuration in use.
        await this.#claimAll();
      }
      return done;
    }
    if (bm === SPECIAL_REQUEST_TYPES.portFeature && bRequest === USB_REQUEST.SET_FEATURE && wValue === USB_PORT_FEAT_RESET) {
      await this.#handle.reset(options);
      this.#alternates.clear();
      this.#rebuildEndpoints();
      return done;
    }
    if (bm === SPECIAL_REQUEST_TYPES.setConfiguration && bRequest === USB_REQUEST.SET_ADDRESS) {
      // The exporting host addressed the device when it enumerated it; vhci-hcd answers SET_ADDRESS itself.
      return done;
    }
    return undefined;
  }

  async #claimAll(): Promise<void> {
    const configuration = configurationByValue(this.export.descriptors, this.export.activeConfiguration);
    for (const i of configuration?.interfaces ?? []) {
      if (i.bAlternateSetting !== 0 || this.#claimed.has(i.bInterfaceNumber)) continue;
      await this.#handle.claimInterface(i.bInterfaceNumber);
      this.#claimed.add(i.bInterfaceNumber);
    }
    this.#alternates.clear();
    this.#rebuildEndpoints();
  }

  async #releaseAll(): Promise<void> {
    for (const n of [...this.#claimed]) {
      this.#claimed.delete(n);
      await this.#handle.releaseInterface(n);
    }
  }

  #rebuildEndpoints(): void {
    this.#endpoints = endpointTypes(configurationByValue(this.export.descriptors, this.export.activeConfiguration), this.#alternates, this.#claimed);
  }

  /** For log lines: `VID 0x1209 PID 0x0001 (sim-1-1)`. */
  describe(): string {
    const dd = this.export.descriptors.deviceDescriptor;
    return `VID ${hex(dd.idVendor, 4)} PID ${hex(dd.idProduct, 4)} (${this.export.busid})`;
  }
}

function outResult(r: UsbOutResult): UsbIpUrbResult {
  return { status: usbipStatusOfResult(r.status), actualLength: r.bytesWritten };
}
