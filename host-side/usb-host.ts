/**
 * The `UsbHost` seam (docs/architecture.md#seams): how the host PC reaches USB devices.
 *
 * Implementations: `NodeUsbHost` (host-side/node-usb, the `usb` 2.x package over libusb: it keeps libusb
 * errno values and per-transfer timeouts), `SimUsbHost` (simulator/link, the virtual host of the
 * simulated link) and `UsbIpUsbHost` (host-side/usbip, a device imported over USB/IP: docs/usbip.md).
 *
 * Outcomes follow libusb (docs/architecture.md#outcomes): an expected USB outcome (STALL handshake, babble/overflow)
 * *resolves* with `status`; everything else *rejects* with `LibusbError` carrying the libusb name
 * (`LIBUSB_ERROR_TIMEOUT`, `LIBUSB_TRANSFER_TIMED_OUT`, `LIBUSB_ERROR_NO_DEVICE`, ...). Every call has a
 * timeout; every call takes an AbortSignal (abort = libusb_cancel_transfer → LIBUSB_TRANSFER_CANCELLED).
 */
import type { UsbRecipient, UsbRequestType, UsbSpeed } from '../core/index.js';


/** A control setup without direction and length (those come from the call: controlIn/controlOut). */
export interface UsbControlSetup {
  readonly requestType: UsbRequestType;
  readonly recipient: UsbRecipient;
  /** bRequest */
  readonly request: number;
  /** wValue */
  readonly value: number;
  /** wIndex */
  readonly index: number;
}


/** How the outcome of a transfer that reached the device is reported. */
export type UsbTransferStatus = 'ok' | 'stall' | 'babble';

export interface UsbInResult {
  readonly status: UsbTransferStatus;
  /** Bytes received (empty on stall). A view: copy it if you keep it past the next call. */
  readonly data: Uint8Array;
}

export interface UsbOutResult {
  readonly status: UsbTransferStatus;
  readonly bytesWritten: number;
}

/** Options every transfer takes. */
export interface UsbTransferOptions {
  /** libusb per-transfer timeout in ms; 0 = no timeout (discouraged). Default: the host's default (5000). */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link UsbDeviceHandle.bulkIn}. */
export interface UsbBulkInOptions extends UsbTransferOptions {
  /**
   * Receive into this buffer (at least `length` bytes) instead of a fresh one: the result's `data` is then
   * a view of it. Lets a caller that moves large transfers reuse its buffers (no allocation, no page faults
   * per transfer). The buffer must not be touched until the transfer settles.
   */
  readonly buffer?: Uint8Array | undefined;
}

export interface UsbBulkOutOptions extends UsbTransferOptions {
  /**
   * LIBUSB_TRANSFER_ADD_ZERO_PACKET: end the transfer with a zero-length packet when its length is a
   * non-zero multiple of wMaxPacketSize.
   */
  readonly zeroLengthPacket?: boolean | undefined;
}

/** Which devices a call is about. All given fields must match. */
export interface UsbDeviceFilter {
  readonly vendorId?: number | undefined;
  readonly productId?: number | undefined;
  readonly serialNumber?: string | undefined;
  /** The device has an interface with this bInterfaceClass (e.g. 0xFF vendor-specific). */
  readonly interfaceClass?: number | undefined;
  /** The device has an interface with this bInterfaceNumber. */
  readonly interfaceNumber?: number | undefined;
}

/** What the host knows about an attached device without opening it. */
export interface UsbDeviceInfo {
  /** Stable for one attachment: `<bus>-<port path>` (lab) or `sim-<bus>-<address>` (sim). */
  readonly id: string;
  readonly busNumber: number;
  readonly deviceAddress: number;
  readonly vendorId: number;
  readonly productId: number;
  /** bcdDevice */
  readonly deviceVersion: number;
  readonly speed: UsbSpeed;
  readonly manufacturer?: string | undefined;
  readonly product?: string | undefined;
  readonly serialNumber?: string | undefined;
  /** The active configuration's interfaces (number, alternate 0 class). */
  readonly interfaces: readonly { readonly interfaceNumber: number; readonly interfaceClass: number }[];
}

export type UsbHotplugEvent =
  | { readonly type: 'attach'; readonly device: UsbDeviceInfo }
  | { readonly type: 'detach'; readonly device: UsbDeviceInfo };

/** An opened device (libusb_device_handle). */
export interface UsbDeviceHandle extends AsyncDisposable {
  readonly info: UsbDeviceInfo;

  /**
   * A control transfer with a device-to-host data stage of up to `length` bytes (wLength = length).
   * Resolves with status `stall` when the device stalls EP0.
   * @throws LibusbError LIBUSB_ERROR_TIMEOUT, LIBUSB_ERROR_NO_DEVICE, LIBUSB_ERROR_INTERRUPTED (aborted), ...
   */
  controlIn(setup: UsbControlSetup, length: number, options?: UsbTransferOptions): Promise<UsbInResult>;

  /**
   * A control transfer with a host-to-device data stage (`data` may be empty: a no-data request).
   * @throws LibusbError as {@link controlIn}.
   */
  controlOut(setup: UsbControlSetup, data?: Uint8Array, options?: UsbTransferOptions): Promise<UsbOutResult>;

  /**
   * Claims an interface (detaching a kernel driver on Linux when needed). Required before bulk transfers.
   * @throws LibusbError LIBUSB_ERROR_BUSY, LIBUSB_ERROR_NOT_FOUND, LIBUSB_ERROR_ACCESS.
   */
  claimInterface(interfaceNumber: number): Promise<void>;
  releaseInterface(interfaceNumber: number): Promise<void>;
  /** SET_INTERFACE (USB 2.0 §9.4.10). */
  selectAlternate(interfaceNumber: number, alternateSetting: number, options?: UsbTransferOptions): Promise<void>;
  /** SET_CONFIGURATION (USB 2.0 §9.4.7); 0 unconfigures. */
  selectConfiguration(configurationValue: number, options?: UsbTransferOptions): Promise<void>;

  /**
   * Bulk (or interrupt) IN of up to `length` bytes: completes on a short packet, a zero-length packet or
   * when `length` bytes arrived. Resolves `stall` if the endpoint is halted, `babble` if the device sent
   * more than fits (LIBUSB_TRANSFER_OVERFLOW).
   * @throws LibusbError LIBUSB_TRANSFER_TIMED_OUT (with actualLength), LIBUSB_TRANSFER_CANCELLED,
   * LIBUSB_TRANSFER_NO_DEVICE, LIBUSB_ERROR_NOT_FOUND (endpoint not in a claimed interface),
   * LIBUSB_ERROR_INVALID_PARAM (`options.buffer` shorter than `length`).
   */
  bulkIn(endpoint: number, length: number, options?: UsbBulkInOptions): Promise<UsbInResult>;

  /**
   * Bulk (or interrupt) OUT of `data`, packetized by wMaxPacketSize.
   * @throws LibusbError as {@link bulkIn}.
   */
  bulkOut(endpoint: number, data: Uint8Array, options?: UsbBulkOutOptions): Promise<UsbOutResult>;

  /** CLEAR_FEATURE(ENDPOINT_HALT) and host-side toggle reset (libusb_clear_halt). */
  clearHalt(endpoint: number, options?: UsbTransferOptions): Promise<void>;

  /** Port reset and re-enumeration (libusb_reset_device). The handle stays valid if the device comes back the same. */
  reset(options?: UsbTransferOptions): Promise<void>;

  /** Releases claimed interfaces and closes. Idempotent. */
  close(): Promise<void>;
}

export interface UsbOpenOptions {
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** The host PC's view of USB. */
export interface UsbHost extends AsyncDisposable {
  /** Which implementation this is, for reports: `node-usb` or `sim`. */
  readonly backend: string;

  /** Devices attached now that match `filter` (reads descriptors; strings only when readable). */
  listDevices(filter?: UsbDeviceFilter): Promise<UsbDeviceInfo[]>;

  /**
   * Resolves with the first device matching `filter`, attached now or later.
   * @throws TimeoutError after `timeoutMs` on the host's clock; AbortedError on abort.
   */
  waitForDevice(filter: UsbDeviceFilter, options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<UsbDeviceInfo>;

  /**
   * Opens a device.
   * @throws LibusbError LIBUSB_ERROR_ACCESS (permissions: see `usbfn-hil doctor`), LIBUSB_ERROR_NO_DEVICE.
   */
  open(device: UsbDeviceInfo, options?: UsbOpenOptions): Promise<UsbDeviceHandle>;

  /**
   * Attach/detach events from now on, until `signal` aborts (the iterator then ends).
   */
  hotplugEvents(options?: { signal?: AbortSignal | undefined }): AsyncIterable<UsbHotplugEvent>;

  /** Stops event delivery and closes every handle it opened. */
  close(): Promise<void>;
}
