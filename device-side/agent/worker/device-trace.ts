/**
 * `RecordingUsbFnPort`: a {@link UsbFnPort} decorator that writes the device trace of a session opened with
 * `trace: true` — every CM call and notification and every DeviceIoControl, as the driver saw them (it sits
 * under the fault-injecting port, so injected faults are not in it; the event log names them). Served as
 * JSON lines by `GET /v1/sessions/{id}/trace`; bounded like the event log (the oldest half goes when full).
 */
import { HarnessError } from '../../../core/index.js';
import { cmNotifyActionName, ioctlInfo, ioctlName } from '../../abi/index.js';
import type {
  CmNotifyListener,
  CmRegistration,
  GuidString,
  InterfaceListQuery,
  IoctlOptions,
  UsbFnFile,
  UsbFnPort,
} from '../../usbfn-port.js';

/** Bytes of a buffer written into a record (the length is always recorded). */
const HEX_BYTES = 64;

type TraceRecord = Record<string, unknown> & { readonly tMs: number; readonly op: string };

const hex = (b: Uint8Array | null, n = HEX_BYTES): string | null => (b === null ? null : Buffer.from(b.subarray(0, n)).toString('hex'));

function errorData(err: unknown): Record<string, unknown> {
  if (err instanceof HarnessError) return { code: err.code, ...err.data };
  return { name: err instanceof Error ? err.name : 'unknown', message: err instanceof Error ? err.message : String(err) };
}

class RecordingUsbFnFile implements UsbFnFile {
  readonly inner: UsbFnFile;
  readonly #trace: RecordingUsbFnPort;

  constructor(inner: UsbFnFile, trace: RecordingUsbFnPort) {
    this.inner = inner;
    this.#trace = trace;
  }

  get symbolicLink(): string {
    return this.inner.symbolicLink;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  async ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, options?: IoctlOptions): Promise<number> {
    const t0 = this.#trace.now();
    const base = { op: 'DeviceIoControl', ioctl: ioctlName(code), target: options?.target, input: hex(input), outputBytes: output?.length ?? 0 };
    const writes = ioctlInfo(code)?.outputAccess === 'write';
    try {
      const n = await this.inner.ioctl(code, input, output, options);
      this.#trace.record({ ...base, tMs: t0, durationMs: this.#trace.now() - t0, bytesReturned: n, output: writes ? hex(output?.subarray(0, n) ?? null) : undefined });
      return n;
    } catch (err) {
      this.#trace.record({ ...base, tMs: t0, durationMs: this.#trace.now() - t0, error: errorData(err) });
      throw err;
    }
  }

  async close(): Promise<void> {
    this.#trace.record({ tMs: this.#trace.now(), op: 'CloseHandle', link: this.symbolicLink });
    await this.inner.close();
  }
}

export class RecordingUsbFnPort implements UsbFnPort {
  readonly #inner: UsbFnPort;
  readonly #limit: number;
  readonly #t0: number;
  #records: TraceRecord[] = [];
  #dropped = 0;

  constructor(inner: UsbFnPort, options: { limit: number }) {
    this.#inner = inner;
    this.#limit = Math.max(2, options.limit);
    this.#t0 = inner.clock.now();
  }

  get clock(): UsbFnPort['clock'] {
    return this.#inner.clock;
  }

  /** ms on the port's clock since recording started. */
  now(): number {
    return this.#inner.clock.now() - this.#t0;
  }

  /** @internal */
  record(r: TraceRecord): void {
    this.#records.push(r);
    if (this.#records.length > this.#limit) {
      const drop = this.#records.length - Math.floor(this.#limit / 2);
      this.#records = this.#records.slice(drop);
      this.#dropped += drop;
    }
  }

  /** The records held, one JSON text per record, oldest first. */
  lines(): string[] {
    return this.#records.map((r) => JSON.stringify(r));
  }

  /** Records lost to the bound. */
  get dropped(): number {
    return this.#dropped;
  }

  async #call<T>(op: string, args: Record<string, unknown>, run: () => Promise<T>, result: (v: T) => Record<string, unknown>): Promise<T> {
    const tMs = this.now();
    try {
      const v = await run();
      this.record({ tMs, op, ...args, ...result(v) });
      return v;
    } catch (err) {
      this.record({ tMs, op, ...args, error: errorData(err) });
      throw err;
    }
  }

  getInterfaceListSize(query: InterfaceListQuery): Promise<number> {
    return this.#call('CM_Get_Device_Interface_List_SizeW', { ...query }, () => this.#inner.getInterfaceListSize(query), (chars) => ({ chars }));
  }

  getInterfaceList(query: InterfaceListQuery, bufferChars: number): Promise<Uint8Array> {
    return this.#call('CM_Get_Device_Interface_ListW', { ...query, bufferChars }, () => this.#inner.getInterfaceList(query, bufferChars), (b) => ({
      list: hex(b, 1024),
    }));
  }

  #listener(filter: string, key: string, listener: CmNotifyListener): { wrapped: CmNotifyListener; bind: (id: string) => void } {
    let id = '?';
    return {
      bind: (v) => (id = v),
      wrapped: (action, data) => {
        const answer = listener(action, data);
        this.record({ tMs: this.now(), op: 'notify', filter, key, registration: id, action: cmNotifyActionName(action), eventData: hex(data, 1024), answer });
        return answer;
      },
    };
  }

  async #watch(filter: string, key: string, listener: CmNotifyListener, register: (l: CmNotifyListener) => Promise<CmRegistration>): Promise<CmRegistration> {
    const l = this.#listener(filter, key, listener);
    const reg = await this.#call('CM_Register_Notification', { filter, key }, () => register(l.wrapped), (r) => ({ id: r.id }));
    l.bind(reg.id);
    return {
      id: reg.id,
      unregister: () => this.#call('CM_Unregister_Notification', { id: reg.id }, () => reg.unregister(), () => ({})),
    };
  }

  watchInterfaces(interfaceClassGuid: GuidString, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#watch('deviceInterface', interfaceClassGuid, listener, (l) => this.#inner.watchInterfaces(interfaceClassGuid, l));
  }

  watchHandle(file: UsbFnFile, listener: CmNotifyListener): Promise<CmRegistration> {
    const inner = file instanceof RecordingUsbFnFile ? file.inner : file;
    return this.#watch('deviceHandle', file.symbolicLink, listener, (l) => this.#inner.watchHandle(inner, l));
  }

  watchInstance(deviceInstanceId: string, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#watch('deviceInstance', deviceInstanceId, listener, (l) => this.#inner.watchInstance(deviceInstanceId, l));
  }

  async open(symbolicLink: string): Promise<UsbFnFile> {
    const file = await this.#call('CreateFileW', { link: symbolicLink }, () => this.#inner.open(symbolicLink), () => ({}));
    return new RecordingUsbFnFile(file, this);
  }
}
