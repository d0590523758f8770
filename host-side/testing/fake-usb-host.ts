/**
 * `FakeUsbHost`: a scripted {@link UsbHost} with one device, for unit tests of code that sits on the seam
 * (the USB/IP server): it answers the chapter-9 descriptor requests from the descriptors it is given,
 * records every call, and hands every other call to the test's `respond` function, which may resolve,
 * reject with a LibusbError, or wait for the call's AbortSignal ({@link pendingUntilAborted}).
 */
import type { LibusbError } from '../../core/index.js';
import { LIBUSB_ERROR, LIBUSB_TRANSFER, libusbError } from '../libusb-error.js';
import type {
  UsbBulkInOptions,
  UsbBulkOutOptions,
  UsbControlSetup,
  UsbDeviceHandle,
  UsbDeviceInfo,
  UsbHost,
  UsbHotplugEvent,
  UsbInResult,
  UsbOutResult,
  UsbTransferOptions,
} from '../usb-host.js';

/** One call the device saw. */
export interface FakeUsbCall {
  readonly op: 'controlIn' | 'controlOut' | 'bulkIn' | 'bulkOut' | 'clearHalt' | 'selectAlternate' | 'selectConfiguration' | 'reset' | 'claimInterface' | 'releaseInterface' | 'close';
  readonly setup?: UsbControlSetup | undefined;
  readonly endpoint?: number | undefined;
  readonly length?: number | undefined;
  readonly data?: Uint8Array | undefined;
  readonly value?: readonly number[] | undefined;
  readonly options?: (UsbTransferOptions & { zeroLengthPacket?: boolean | undefined }) | undefined;
}

/** What `respond` returns for a transfer: a result, or undefined for a request call that succeeded. */
export type FakeUsbResponse = UsbInResult | UsbOutResult | undefined;

/**
 * The device: VID 0x1209 PID 0x0001, one configuration (value 1) with interface 0: alternate 0 has bulk OUT
 * 0x01, bulk IN 0x81, interrupt IN 0x82 and isochronous OUT 0x03; alternate 1 has bulk OUT 0x04.
 */
export function fakeDeviceDescriptors(): { device: Uint8Array; configuration: Uint8Array } {
  const device = Uint8Array.of(18, 1, 0x00, 0x02, 0xef, 0x02, 0x01, 64, 0x09, 0x12, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 1);
  const ep = (address: number, attributes: number, size: number): number[] => [7, 5, address, attributes, size & 0xff, size >> 8, attributes === 3 ? 4 : 0];
  const body = [
    ...[9, 4, 0, 0, 4, 0xff, 0x01, 0x02, 0],
    ...ep(0x01, 0x02, 512),
    ...ep(0x81, 0x02, 512),
    ...ep(0x82, 0x03, 64),
    ...ep(0x03, 0x01, 1024),
    ...[9, 4, 0, 1, 1, 0xff, 0x01, 0x02, 0],
    ...ep(0x04, 0x02, 512),
  ];
  const total = 9 + body.length;
  const configuration = Uint8Array.from([9, 2, total & 0xff, total >> 8, 1, 1, 0, 0xc0, 50, ...body]);
  return { device, configuration };
}

export class FakeUsbHost implements UsbHost {
  readonly backend = 'fake';
  readonly info: UsbDeviceInfo = {
    id: '3-1',
    busNumber: 3,
    deviceAddress: 7,
    vendorId: 0x1209,
    productId: 0x0001,
    deviceVersion: 0x0100,
    speed: 'high',
    interfaces: [{ interfaceNumber: 0, interfaceClass: 0xff }],
  };
  readonly calls: FakeUsbCall[] = [];
  /** Answers every call the fake does not answer itself. Default: transfers resolve ok with no data, requests succeed. */
  respond: (call: FakeUsbCall) => Promise<FakeUsbResponse> = async (call) =>
    call.op === 'bulkIn' || call.op === 'controlIn' ? { status: 'ok', data: new Uint8Array(0) } : call.op === 'bulkOut' || call.op === 'controlOut' ? { status: 'ok', bytesWritten: call.data?.length ?? 0 } : undefined;
  /** Claims by interface number. */
  readonly claims = new Map<number, FakeUsbHandle>();
  readonly descriptors = fakeDeviceDescriptors();
  activeConfiguration = 1;
  attached = true;
  readonly #listeners = new Set<(e: UsbHotplugEvent) => void>();

  async listDevices(): Promise<UsbDeviceInfo[]> {
    return this.attached ? [this.info] : [];
  }

  async waitForDevice(): Promise<UsbDeviceInfo> {
    if (!this.attached) throw libusbError('waitForDevice', LIBUSB_ERROR.LIBUSB_ERROR_NO_DEVICE, { detail: 'the fake device is detached' });
    return this.info;
  }

  async open(device: UsbDeviceInfo): Promise<UsbDeviceHandle> {
    if (!this.attached || device.id !== this.info.id) throw libusbError('open', LIBUSB_ERROR.LIBUSB_ERROR_NO_DEVICE, { detail: `no device ${device.id}` });
    return new FakeUsbHandle(this);
  }

  /** Unplugs: later calls fail LIBUSB_ERROR_NO_DEVICE and hotplug listeners hear `detach`. */
  detach(): void {
    this.attached = false;
    for (const l of this.#listeners) l({ type: 'detach', device: this.info });
  }

  hotplugEvents(options: { signal?: AbortSignal | undefined } = {}): AsyncIterable<UsbHotplugEvent> {
    const queue: UsbHotplugEvent[] = [];
    let wake: (() => void) | undefined;
    const listener = (e: UsbHotplugEvent): void => {
      queue.push(e);
      wake?.();
    };
    this.#listeners.add(listener);
    options.signal?.addEventListener('abort', () => wake?.(), { once: true });
    const listeners = this.#listeners;
    return {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<UsbHotplugEvent>> => {
          for (;;) {
            const e = queue.shift();
            if (e !== undefined) return { done: false, value: e };
            if (options.signal?.aborted) {
              listeners.delete(listener);
              return { done: true, value: undefined };
            }
            await new Promise<void>((r) => (wake = r));
          }
        },
      }),
    };
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export class FakeUsbHandle implements UsbDeviceHandle {
  readonly #host: FakeUsbHost;
  #closed = false;

  constructor(host: FakeUsbHost) {
    this.#host = host;
  }

  get info(): UsbDeviceInfo {
    return this.#host.info;
  }

  #gone(op: string): LibusbError | undefined {
    if (this.#closed || !this.#host.attached) return libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_NO_DEVICE, { detail: 'the fake device is gone' });
    return undefined;
  }

  async #call<T extends FakeUsbResponse>(call: FakeUsbCall): Promise<T> {
    const gone = this.#gone(call.op);
    if (gone !== undefined) throw gone;
    this.#host.calls.push(call);
    return (await this.#host.respond(call)) as T;
  }

  async controlIn(setup: UsbControlSetup, length: number, options?: UsbTransferOptions): Promise<UsbInResult> {
    const d = this.#host.descriptors;
    if (setup.requestType === 'standard' && setup.request === 0x06) {
      const type = setup.value >> 8;
      const bytes = type === 1 ? d.device : type === 2 ? d.configuration : undefined;
      if (bytes !== undefined) return { status: 'ok', data: bytes.slice(0, length) };
      return { status: 'stall', data: new Uint8Array(0) };
    }
    if (setup.requestType === 'standard' && setup.request === 0x08) return { status: 'ok', data: Uint8Array.of(this.#host.activeConfiguration) };
    return this.#call({ op: 'controlIn', setup, length, options });
  }

  controlOut(setup: UsbControlSetup, data: Uint8Array = new Uint8Array(0), options?: UsbTransferOptions): Promise<UsbOutResult> {
    return this.#call({ op: 'controlOut', setup, data, options });
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    const gone = this.#gone('claimInterface');
    if (gone !== undefined) throw gone;
    this.#host.calls.push({ op: 'claimInterface', value: [interfaceNumber] });
    const owner = this.#host.claims.get(interfaceNumber);
    if (owner !== undefined && owner !== this) throw libusbError('claimInterface', LIBUSB_ERROR.LIBUSB_ERROR_BUSY, { detail: 'claimed elsewhere' });
    this.#host.claims.set(interfaceNumber, this);
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.#host.calls.push({ op: 'releaseInterface', value: [interfaceNumber] });
    this.#host.claims.delete(interfaceNumber);
  }

  async selectAlternate(interfaceNumber: number, alternateSetting: number, options?: UsbTransferOptions): Promise<void> {
    await this.#call({ op: 'selectAlternate', value: [interfaceNumber, alternateSetting], options });
  }

  async selectConfiguration(configurationValue: number, options?: UsbTransferOptions): Promise<void> {
    await this.#call({ op: 'selectConfiguration', value: [configurationValue], options });
    this.#host.activeConfiguration = configurationValue;
  }

  bulkIn(endpoint: number, length: number, options?: UsbBulkInOptions): Promise<UsbInResult> {
    return this.#call({ op: 'bulkIn', endpoint, length, options });
  }

  bulkOut(endpoint: number, data: Uint8Array, options?: UsbBulkOutOptions): Promise<UsbOutResult> {
    return this.#call({ op: 'bulkOut', endpoint, data: data.slice(), options });
  }

  async clearHalt(endpoint: number, options?: UsbTransferOptions): Promise<void> {
    await this.#call({ op: 'clearHalt', endpoint, options });
  }

  async reset(options?: UsbTransferOptions): Promise<void> {
    await this.#call({ op: 'reset', options });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.calls.push({ op: 'close' });
    for (const [n, h] of this.#host.claims) if (h === this) this.#host.claims.delete(n);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * For `respond`: a call that never settles on its own and ends, like a libusb transfer cancelled through its
 * AbortSignal, with LIBUSB_TRANSFER_CANCELLED (actualLength 0).
 */
export function pendingUntilAborted(call: FakeUsbCall): Promise<FakeUsbResponse> {
  return new Promise((_, reject) => {
    const signal = call.options?.signal;
    const cancelled = (): void => reject(libusbError(call.op, LIBUSB_TRANSFER.LIBUSB_TRANSFER_CANCELLED, { endpoint: call.endpoint, actualLength: 0 }));
    if (signal?.aborted) cancelled();
    else signal?.addEventListener('abort', cancelled, { once: true });
  });
}
