/**
 * A {@link UsbHost} wrapper that records what every call returned (or how it failed) as plain data, so
 * the contract run on SimUsbHost and the replay on NodeUsbHost compare with one deep-equality: same
 * calls, same statuses, lengths, bytes and libusb names. Behaviour is passed through untouched.
 *
 * World-specific values are left out on purpose: device ids, bus numbers and addresses (the sim's
 * differ from the umockdev description's), string descriptors (the replay lists without reading them,
 * see node-usb-host.replay.test.ts) and error messages (only names are contract).
 */
import type {
  UsbBulkOutOptions,
  UsbControlSetup,
  UsbDeviceFilter,
  UsbDeviceHandle,
  UsbDeviceInfo,
  UsbHost,
  UsbHotplugEvent,
  UsbInResult,
  UsbOpenOptions,
  UsbOutResult,
  UsbTransferOptions,
} from '../../../host-side/index.js';

/** One call and its outcome. */
export interface TranscriptEntry {
  readonly call: string;
  readonly outcome: unknown;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** The contract-relevant part of a device description. */
function device(d: UsbDeviceInfo): unknown {
  return { vendorId: d.vendorId, productId: d.productId, deviceVersion: d.deviceVersion, speed: d.speed, interfaces: d.interfaces };
}

/** The contract-relevant part of a rejection: the error class and its stable names. */
export function errorOutcome(e: unknown): unknown {
  if (e instanceof Error) {
    const fields = e as Error & { code?: unknown; libusbName?: unknown; endpoint?: unknown };
    return { error: e.name, code: fields.code, libusbName: fields.libusbName, endpoint: fields.endpoint };
  }
  return { error: String(e) };
}

/** A filter without its serial number: string descriptors are world-specific here (see the file comment). */
function filterLabel(f: UsbDeviceFilter = {}): string {
  const { serialNumber: _serial, ...rest } = f;
  return JSON.stringify(rest);
}

function setupLabel(s: UsbControlSetup): string {
  return `${s.requestType} ${s.recipient} 0x${s.request.toString(16)} wValue 0x${s.value.toString(16)} wIndex 0x${s.index.toString(16)}`;
}

const inResult = (r: UsbInResult): unknown => ({ status: r.status, length: r.data.length, data: hex(r.data) });
const outResult = (r: UsbOutResult): unknown => ({ status: r.status, bytesWritten: r.bytesWritten });

/** Wraps `host`; every call through it (and through the handles it opens) is appended to `entries`. */
export class TranscriptUsbHost implements UsbHost {
  readonly entries: TranscriptEntry[] = [];

  constructor(readonly inner: UsbHost) {}

  get backend(): string {
    return this.inner.backend;
  }

  /** Runs `call`, records its outcome under `label`, and returns or rethrows it unchanged. */
  async record<T>(label: string, call: () => Promise<T>, describe: (value: T) => unknown): Promise<T> {
    try {
      const value = await call();
      this.entries.push({ call: label, outcome: describe(value) });
      return value;
    } catch (e) {
      this.entries.push({ call: label, outcome: errorOutcome(e) });
      throw e;
    }
  }

  listDevices(filter?: UsbDeviceFilter): Promise<UsbDeviceInfo[]> {
    return this.record(`listDevices(${filterLabel(filter)})`, () => this.inner.listDevices(filter), (list) => list.map(device));
  }

  waitForDevice(filter: UsbDeviceFilter, options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<UsbDeviceInfo> {
    return this.record(`waitForDevice(${filterLabel(filter)})`, () => this.inner.waitForDevice(filter, options), device);
  }

  async open(info: UsbDeviceInfo, options?: UsbOpenOptions): Promise<UsbDeviceHandle> {
    const handle = await this.record('open', () => this.inner.open(info, options), (h) => device(h.info));
    return new TranscriptDeviceHandle(this, handle);
  }

  hotplugEvents(options?: { signal?: AbortSignal | undefined }): AsyncIterable<UsbHotplugEvent> {
    this.entries.push({ call: 'hotplugEvents', outcome: 'iterable' });
    return this.inner.hotplugEvents(options);
  }

  close(): Promise<void> {
    return this.record('host.close', () => this.inner.close(), () => 'ok');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A handle whose calls land in the host's transcript. */
class TranscriptDeviceHandle implements UsbDeviceHandle {
  constructor(
    readonly host: TranscriptUsbHost,
    readonly inner: UsbDeviceHandle,
  ) {}

  get info(): UsbDeviceInfo {
    return this.inner.info;
  }

  controlIn(setup: UsbControlSetup, length: number, options?: UsbTransferOptions): Promise<UsbInResult> {
    return this.host.record(`controlIn(${setupLabel(setup)}, ${length})`, () => this.inner.controlIn(setup, length, options), inResult);
  }

  controlOut(setup: UsbControlSetup, data?: Uint8Array, options?: UsbTransferOptions): Promise<UsbOutResult> {
    return this.host.record(`controlOut(${setupLabel(setup)}, ${hex(data ?? new Uint8Array(0))})`, () => this.inner.controlOut(setup, data, options), outResult);
  }

  claimInterface(interfaceNumber: number): Promise<void> {
    return this.host.record(`claimInterface(${interfaceNumber})`, () => this.inner.claimInterface(interfaceNumber), () => 'ok');
  }

  releaseInterface(interfaceNumber: number): Promise<void> {
    return this.host.record(`releaseInterface(${interfaceNumber})`, () => this.inner.releaseInterface(interfaceNumber), () => 'ok');
  }

  selectAlternate(interfaceNumber: number, alternateSetting: number, options?: UsbTransferOptions): Promise<void> {
    return this.host.record(`selectAlternate(${interfaceNumber}, ${alternateSetting})`, () => this.inner.selectAlternate(interfaceNumber, alternateSetting, options), () => 'ok');
  }

  selectConfiguration(configurationValue: number, options?: UsbTransferOptions): Promise<void> {
    return this.host.record(`selectConfiguration(${configurationValue})`, () => this.inner.selectConfiguration(configurationValue, options), () => 'ok');
  }

  bulkIn(endpoint: number, length: number, options?: UsbTransferOptions): Promise<UsbInResult> {
    return this.host.record(`bulkIn(0x${endpoint.toString(16)}, ${length})`, () => this.inner.bulkIn(endpoint, length, options), inResult);
  }

  bulkOut(endpoint: number, data: Uint8Array, options?: UsbBulkOutOptions): Promise<UsbOutResult> {
    const zlp = options?.zeroLengthPacket === true ? ', zeroLengthPacket' : '';
    return this.host.record(`bulkOut(0x${endpoint.toString(16)}, ${hex(data)}${zlp})`, () => this.inner.bulkOut(endpoint, data, options), outResult);
  }

  clearHalt(endpoint: number, options?: UsbTransferOptions): Promise<void> {
    return this.host.record(`clearHalt(0x${endpoint.toString(16)})`, () => this.inner.clearHalt(endpoint, options), () => 'ok');
  }

  reset(options?: UsbTransferOptions): Promise<void> {
    return this.host.record('reset', () => this.inner.reset(options), () => 'ok');
  }

  close(): Promise<void> {
    return this.host.record('close', () => this.inner.close(), () => 'ok');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
