/**
 * The slice of the `usb` 2.x package's legacy API (`usb.Device`, `Transfer`, `Interface`, `Endpoint`,
 * hotplug `on('attach')`) that NodeUsbHost uses, as structural types. The real module satisfies them;
 * unit tests pass small fakes. Keeping the legacy API (not WebUSB) is what lets `errno` and per-transfer
 * timeouts survive (node-usb `webusb-device.ts` re-wraps errors into DOMExceptions).
 *
 * @see https://github.com/node-usb/node-usb#legacy-api
 */
import { UsageError } from '../../core/index.js';

/** node-usb's completion callback: `error.errno` is a positive LIBUSB_TRANSFER_* status. */
export type TransferCallback = (error: Error | undefined, buffer: Buffer, actualLength: number) => void;

/** `usb.Transfer`: one libusb_transfer, reusable once completed. */
export interface TransferLike {
  submit(buffer: Buffer, callback?: TransferCallback): unknown;
  /** libusb_cancel_transfer; false when not pending. */
  cancel(): boolean;
}

export interface EndpointDescriptorLike {
  readonly bEndpointAddress: number;
  readonly bmAttributes: number;
  readonly wMaxPacketSize: number;
}

export interface InterfaceDescriptorLike {
  readonly bInterfaceNumber: number;
  readonly bAlternateSetting: number;
  readonly bInterfaceClass: number;
  readonly endpoints: readonly EndpointDescriptorLike[];
}

export interface ConfigDescriptorLike {
  readonly bConfigurationValue: number;
  /** One array of alternate settings per interface. */
  readonly interfaces: readonly (readonly InterfaceDescriptorLike[])[];
}

export interface DeviceDescriptorLike {
  readonly bcdUSB: number;
  readonly bMaxPacketSize0: number;
  readonly idVendor: number;
  readonly idProduct: number;
  readonly bcdDevice: number;
  readonly iManufacturer: number;
  readonly iProduct: number;
  readonly iSerialNumber: number;
}

/** `usb.Endpoint` (InEndpoint / OutEndpoint). */
export interface EndpointLike {
  readonly address: number;
  readonly descriptor: EndpointDescriptorLike;
  makeTransfer(timeout: number, callback: TransferCallback): TransferLike;
  clearHalt(callback: (error: Error | undefined) => void): void;
}

/** `usb.Interface` */
export interface InterfaceLike {
  readonly interfaceNumber: number;
  readonly endpoints: readonly EndpointLike[];
  claim(): void;
  release(callback?: (error?: Error) => void): void;
  isKernelDriverActive(): boolean;
  detachKernelDriver(): void;
  attachKernelDriver(): void;
  setAltSetting(alternateSetting: number, callback?: (error: Error | undefined) => void): void;
}

/** `usb.Device` (legacy). */
export interface DeviceLike {
  readonly busNumber: number;
  readonly deviceAddress: number;
  readonly portNumbers?: readonly number[] | undefined;
  readonly deviceDescriptor: DeviceDescriptorLike;
  readonly configDescriptor: ConfigDescriptorLike | undefined;
  interfaces: readonly InterfaceLike[] | undefined;
  timeout: number;
  open(defaultConfig?: boolean): void;
  close(): void;
  interface(interfaceNumber: number): InterfaceLike;
  setConfiguration(desired: number, callback?: (error: Error | undefined) => void): void;
  getStringDescriptor(index: number, callback: (error?: Error, value?: string) => void): void;
  reset(callback: (error?: Error) => void): void;
  __clearHalt(address: number, callback: (error?: Error) => void): void;
}

/** The `usb` object of `import('usb')` (the bindings with EventEmitter hotplug). */
export interface UsbModuleLike {
  getDeviceList(): DeviceLike[];
  readonly Transfer: new (device: DeviceLike, endpoint: number, type: number, timeout: number, callback: TransferCallback) => TransferLike;
  on(event: 'attach' | 'detach', listener: (device: DeviceLike) => void): void;
  removeListener(event: 'attach' | 'detach', listener: (device: DeviceLike) => void): void;
  /** libusb init status (non-zero: libusb could not initialize). */
  readonly INIT_ERROR?: number | undefined;
  unrefHotplugEvents?(): void;
}

/** libusb_transfer_type (libusb.h). */
export const LIBUSB_TRANSFER_TYPE = { CONTROL: 0, ISOCHRONOUS: 1, BULK: 2, INTERRUPT: 3 } as const;

/**
 * Loads `usb` lazily (docs/architecture.md#import-rule: native modules load inside factories, so sim runs need no libusb).
 * @throws UsageError LIBUSB_UNAVAILABLE with the reason and the fix.
 */
export async function loadUsbModule(): Promise<UsbModuleLike> {
  let mod: { usb: unknown };
  try {
    mod = (await import('usb')) as { usb: unknown };
  } catch (cause) {
    throw new UsageError(
      'LIBUSB_UNAVAILABLE',
      `the 'usb' package could not be loaded (${cause instanceof Error ? cause.message : String(cause)}): run 'npm ci' on this machine; on Linux the prebuilt binary needs glibc, on others install libusb-1.0`,
      {},
      { cause },
    );
  }
  const usb = mod.usb as UsbModuleLike;
  if (usb.INIT_ERROR) {
    throw new UsageError(
      'LIBUSB_UNAVAILABLE',
      `libusb failed to initialize (libusb_init returned ${usb.INIT_ERROR}): in a container, mount /dev/bus/usb and /sys; otherwise check that the USB subsystem is available`,
      { initError: usb.INIT_ERROR },
    );
  }
  return usb;
}
