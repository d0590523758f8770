/**
 * A small fake of the `usb` 2.x legacy API for unit tests of NodeUsbHost on machines without USB
 * devices. Transfers stay pending until the test completes them (`FakeTransfer.complete`), so timing,
 * cancellation and several transfers in flight are under the test's control.
 */
import { EventEmitter } from 'node:events';
import type {
  ConfigDescriptorLike,
  DeviceDescriptorLike,
  DeviceLike,
  EndpointDescriptorLike,
  EndpointLike,
  InterfaceDescriptorLike,
  InterfaceLike,
  TransferCallback,
  TransferLike,
  UsbModuleLike,
} from './usb-module.js';

/** An error shaped like node-usb's LibUSBException. */
export class FakeLibUSBException extends Error {
  readonly errno: number;
  constructor(errno: number, message = `LIBUSB errno ${errno}`) {
    super(message);
    this.errno = errno;
  }
}

export class FakeTransfer implements TransferLike {
  buffer: Buffer | undefined;
  pending = false;
  cancelled = false;
  readonly device: FakeDevice;
  readonly endpoint: number;
  readonly type: number;
  readonly timeout: number;
  readonly #callback: TransferCallback;

  constructor(device: FakeDevice, endpoint: number, type: number, timeout: number, callback: TransferCallback) {
    this.device = device;
    this.endpoint = endpoint;
    this.type = type;
    this.timeout = timeout;
    this.#callback = callback;
  }

  submit(buffer: Buffer): this {
    if (this.device.submitError !== undefined) throw this.device.submitError;
    this.buffer = buffer;
    this.pending = true;
    this.device.submitted.push(this);
    return this;
  }

  cancel(): boolean {
    if (!this.pending) return false;
    this.cancelled = true;
    queueMicrotask(() => this.complete(new FakeLibUSBException(3, 'LIBUSB_TRANSFER_CANCELLED'), 0));
    return true;
  }

  /** Completes the transfer: copies `data` into the buffer (IN) and calls back like libusb's event thread. */
  complete(error: Error | undefined, actual: number, data?: Uint8Array): void {
    if (!this.pending || this.buffer === undefined) return;
    this.pending = false;
    if (data !== undefined) this.buffer.set(data, this.endpoint === 0 ? 8 : 0);
    this.#callback(error, this.buffer, actual);
  }
}

export class FakeEndpoint implements EndpointLike {
  readonly address: number;
  readonly descriptor: EndpointDescriptorLike;
  clearHaltCalls = 0;
  clearHaltError: Error | undefined;
  readonly #device: FakeDevice;
  constructor(device: FakeDevice, descriptor: EndpointDescriptorLike) {
    this.#device = device;
    this.descriptor = descriptor;
    this.address = descriptor.bEndpointAddress;
  }
  makeTransfer(timeout: number, callback: TransferCallback): FakeTransfer {
    return new FakeTransfer(this.#device, this.address, this.descriptor.bmAttributes & 3, timeout, callback);
  }
  clearHalt(callback: (error: Error | undefined) => void): void {
    this.clearHaltCalls++;
    const e = this.clearHaltError;
    queueMicrotask(() => callback(e));
  }
}

export class FakeInterface implements InterfaceLike {
  readonly interfaceNumber: number;
  endpoints: FakeEndpoint[];
  kernelDriverActive = false;
  /** errno USBDEVFS_GETDRIVER fails with (libusb_kernel_driver_active). */
  driverQueryErrno: number | undefined;
  claimed = false;
  claimError: Error | undefined;
  readonly calls: string[] = [];
  constructor(device: FakeDevice, descriptor: InterfaceDescriptorLike) {
    this.interfaceNumber = descriptor.bInterfaceNumber;
    this.endpoints = descriptor.endpoints.map((e) => new FakeEndpoint(device, e));
  }
  claim(): void {
    this.calls.push('claim');
    if (this.claimError) throw this.claimError;
    if (this.kernelDriverActive) throw new FakeLibUSBException(-6, 'LIBUSB_ERROR_BUSY');
    this.claimed = true;
  }
  release(callback?: (error?: Error) => void): void {
    this.calls.push('release');
    this.claimed = false;
    queueMicrotask(() => callback?.(undefined));
  }
  isKernelDriverActive(): boolean {
    if (this.driverQueryErrno !== undefined) throw new FakeLibUSBException(this.driverQueryErrno);
    return this.kernelDriverActive;
  }
  detachKernelDriver(): void {
    this.calls.push('detachKernelDriver');
    this.kernelDriverActive = false;
  }
  attachKernelDriver(): void {
    this.calls.push('attachKernelDriver');
    this.kernelDriverActive = true;
  }
  setAltSetting(alternateSetting: number, callback?: (error: Error | undefined) => void): void {
    this.calls.push(`setAltSetting(${alternateSetting})`);
    queueMicrotask(() => callback?.(undefined));
  }
}

export interface FakeDeviceSpec {
  readonly busNumber?: number;
  readonly deviceAddress?: number;
  readonly portNumbers?: number[];
  readonly descriptor?: Partial<DeviceDescriptorLike>;
  readonly interfaces?: InterfaceDescriptorLike[];
  readonly strings?: Record<number, string>;
  /** errno libusb_open fails with (e.g. -3 LIBUSB_ERROR_ACCESS). */
  readonly openErrno?: number;
}

/** A vendor-class interface with bulk OUT 0x01 and IN 0x81 of `maxPacket` bytes. */
export function loopbackInterface(interfaceNumber = 0, maxPacket = 512): InterfaceDescriptorLike {
  return {
    bInterfaceNumber: interfaceNumber,
    bAlternateSetting: 0,
    bInterfaceClass: 0xff,
    endpoints: [
      { bEndpointAddress: 0x01, bmAttributes: 2, wMaxPacketSize: maxPacket },
      { bEndpointAddress: 0x81, bmAttributes: 2, wMaxPacketSize: maxPacket },
    ],
  };
}

export class FakeDevice implements DeviceLike {
  readonly busNumber: number;
  readonly deviceAddress: number;
  readonly portNumbers: number[] | undefined;
  readonly deviceDescriptor: DeviceDescriptorLike;
  readonly configDescriptor: ConfigDescriptorLike | undefined;
  interfaces: FakeInterface[] | undefined;
  timeout = 1000;
  isOpen = false;
  openCount = 0;
  readonly submitted: FakeTransfer[] = [];
  submitError: Error | undefined;
  resetError: Error | undefined;
  readonly #strings: Record<number, string>;
  readonly #openErrno: number | undefined;
  readonly #ifaceDescriptors: InterfaceDescriptorLike[];

  constructor(spec: FakeDeviceSpec = {}) {
    this.busNumber = spec.busNumber ?? 1;
    this.deviceAddress = spec.deviceAddress ?? 2;
    this.portNumbers = spec.portNumbers ?? [3];
    this.deviceDescriptor = {
      bcdUSB: 0x0200,
      bMaxPacketSize0: 64,
      idVendor: 0x1209,
      idProduct: 0x0001,
      bcdDevice: 0x0100,
      iManufacturer: 1,
      iProduct: 2,
      iSerialNumber: 3,
      ...spec.descriptor,
    };
    this.#ifaceDescriptors = spec.interfaces ?? [loopbackInterface()];
    this.configDescriptor = { bConfigurationValue: 1, interfaces: this.#ifaceDescriptors.map((i) => [i]) };
    this.#strings = spec.strings ?? { 1: 'usbfn-hil', 2: 'Loopback', 3: 'SN-0001' };
    this.#openErrno = spec.openErrno;
  }

  open(defaultConfig = true): void {
    if (this.#openErrno !== undefined) throw new FakeLibUSBException(this.#openErrno);
    this.isOpen = true;
    this.openCount++;
    this.interfaces = defaultConfig ? this.#ifaceDescriptors.map((d) => new FakeInterface(this, d)) : [];
  }
  close(): void {
    this.isOpen = false;
    this.interfaces = undefined;
  }
  interface(interfaceNumber: number): FakeInterface {
    const i = this.interfaces?.find((x) => x.interfaceNumber === interfaceNumber);
    if (i === undefined) throw new Error(`Interface not found for address: ${interfaceNumber}`);
    return i;
  }
  setConfiguration(_desired: number, callback?: (error: Error | undefined) => void): void {
    queueMicrotask(() => callback?.(undefined));
  }
  getStringDescriptor(index: number, callback: (error?: Error, value?: string) => void): void {
    const s = this.#strings[index];
    queueMicrotask(() => (s === undefined ? callback(new FakeLibUSBException(4)) : callback(undefined, s)));
  }
  reset(callback: (error?: Error) => void): void {
    const e = this.resetError;
    queueMicrotask(() => callback(e));
  }
  __clearHalt(_address: number, callback: (error?: Error) => void): void {
    queueMicrotask(() => callback(undefined));
  }
  /** The most recent transfer submitted (throws if none). */
  last(): FakeTransfer {
    const t = this.submitted[this.submitted.length - 1];
    if (t === undefined) throw new Error('no transfer submitted');
    return t;
  }
}

/** The fake `usb` object: a device list plus attach/detach events. */
export class FakeUsbModule extends EventEmitter implements UsbModuleLike {
  devices: FakeDevice[];
  readonly Transfer = FakeTransfer as unknown as UsbModuleLike['Transfer'];
  constructor(devices: FakeDevice[] = []) {
    super();
    this.devices = devices;
  }
  getDeviceList(): FakeDevice[] {
    return [...this.devices];
  }
  override on(event: 'attach' | 'detach', listener: (device: DeviceLike) => void): this {
    return super.on(event, listener);
  }
  override removeListener(event: 'attach' | 'detach', listener: (device: DeviceLike) => void): this {
    return super.removeListener(event, listener);
  }
  attach(device: FakeDevice): void {
    this.devices.push(device);
    this.emit('attach', device);
  }
  detach(device: FakeDevice): void {
    this.devices = this.devices.filter((d) => d !== device);
    this.emit('detach', device);
  }
}
