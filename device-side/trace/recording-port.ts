/**
 * `recordingPort(port, sink)`: a {@link UsbFnPort} decorator that writes a device trace (trace-format.ts) of
 * everything that crosses the seam: every IOCTL (code and name, input, output size, what the driver
 * returned, lpBytesReturned, the Win32 status, submit and completion time), every CreateFileW and
 * CloseHandle, every CM registration, list call and notification (action, the raw CM_NOTIFY_EVENT_DATA and
 * its size, the callback's result, when the callback was entered and when it returned). It works over any port: `Win32UsbFnPort` on the device, `SimUsbFnPort`
 * in the simulator, and it changes nothing about the calls themselves.
 *
 * @example
 * const sink = new JsonLinesFileSink('reports/traces/session-7.jsonl');
 * const port = recordingPort(await Win32UsbFnPort.create(), sink, { backend: 'win32' });
 * // … run the service on `port` …
 * await port.finish(); // writes the end line and closes the sink
 * @see docs/reference/device-trace.md
 */
import { arch, platform, release } from 'node:os';
import { ConfigRetError, HarnessError, Win32Error, type Clock } from '../../core/index.js';
import { CM_NOTIFY_ACTION, METHOD_IN_DIRECT, decodeMultiSz, ioctlName, win32ErrorName } from '../abi/index.js';
import type {
  CmNotifyListener,
  CmRegistration,
  GuidString,
  InterfaceListQuery,
  IoctlOptions,
  UsbFnFile,
  UsbFnPort,
} from '../usbfn-port.js';
import { ForwardingUsbFnFile } from '../usbfn-port-decorator.js';
import {
  DEFAULT_TRACE_MAX_DATA_BYTES,
  DEVICE_TRACE_FORMAT,
  DEVICE_TRACE_VERSION,
  toHex,
  type CmFilterKind,
  type TraceHeader,
  type TraceLine,
} from './trace-format.js';
import type { TraceSink } from './trace-sink.js';

/** Options of {@link recordingPort}. */
export interface RecordingPortOptions {
  /** The header's `backend` (e.g. `win32`, `sim`). Default: the port's class name. */
  readonly backend?: string | undefined;
  /** Cap on the bytes of one buffer written into the trace. Default 4096. */
  readonly maxDataBytes?: number | undefined;
}

const ACTION_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(CM_NOTIFY_ACTION).map(([name, value]) => [value, name] as const));

/** The outcome fields of a failed call. */
function outcomeOf(err: unknown): Pick<TraceLine & { kind: 'ioctl' }, 'win32' | 'win32Name' | 'cr' | 'crName' | 'error'> {
  if (err instanceof Win32Error) return { win32: err.win32, win32Name: err.win32Name };
  if (err instanceof ConfigRetError) return { cr: err.cr, crName: err.crName };
  if (err instanceof HarnessError) return { error: { code: err.code, message: err.message } };
  return { error: { code: 'UNEXPECTED', message: err instanceof Error ? err.message : String(err) } };
}

/** The lines of asynchronous calls (they have a submit and a completion). */
type TimedLine = Extract<TraceLine, { submitSeq: number }>;
/** Such a line before its completion seq and time are added. */
type Completion = TimedLine extends infer L ? (L extends TimedLine ? Omit<L, 'seq' | 'completeMs'> : never) : never;

const OK = { win32: 0, win32Name: 'ERROR_SUCCESS' } as const;
const CR_OK = { cr: 0, crName: 'CR_SUCCESS' } as const;

/** Writes lines, numbers them and the handles and registrations. Shared by the port and its files. */
class TraceRecorder {
  readonly #sink: TraceSink;
  readonly #clock: Clock;
  readonly maxDataBytes: number;
  #seq = 0;
  #handles = 0;
  #registrations = 0;
  #pending = 0;
  #finished = false;

  constructor(sink: TraceSink, clock: Clock, header: Omit<TraceHeader, 'kind' | 'format' | 'version' | 'timeBase' | 'clockStartMs' | 'startedAt'>) {
    this.#sink = sink;
    this.#clock = clock;
    this.maxDataBytes = header.maxDataBytes;
    sink.write({
      kind: 'header',
      format: DEVICE_TRACE_FORMAT,
      version: DEVICE_TRACE_VERSION,
      timeBase: 'port-clock-ms',
      clockStartMs: clock.now(),
      startedAt: new Date().toISOString(),
      ...header,
    });
  }

  now(): number {
    return this.#clock.now();
  }

  nextSeq(): number {
    return ++this.#seq;
  }

  nextHandle(): number {
    return ++this.#handles;
  }

  nextRegistration(): string {
    return `r${++this.#registrations}`;
  }

  /** Starts an asynchronous call: its submit seq and time. */
  begin(): { submitSeq: number; submitMs: number } {
    this.#pending++;
    return { submitSeq: this.nextSeq(), submitMs: this.now() };
  }

  /** Ends an asynchronous call: writes its line with the completion seq and time. */
  end(line: Completion): void {
    this.#pending--;
    this.write({ ...line, seq: this.nextSeq(), completeMs: this.now() } as TimedLine);
  }

  write(line: TraceLine): void {
    if (this.#finished) return;
    this.#sink.write(line);
  }

  /** `bytes` as hex, cut to maxDataBytes; `cut` notes whether it was. */
  hex(bytes: Uint8Array, cut: { truncated: boolean }): string {
    if (bytes.byteLength <= this.maxDataBytes) return toHex(bytes);
    cut.truncated = true;
    return toHex(bytes.subarray(0, this.maxDataBytes));
  }

  async finish(): Promise<void> {
    if (this.#finished) return;
    this.write({ kind: 'end', seq: this.nextSeq(), timeMs: this.now(), pending: this.#pending });
    this.#finished = true;
    await this.#sink.close();
  }
}

/** A traced handle: passes every call to the inner file and records it. */
class TracedFile extends ForwardingUsbFnFile {
  readonly handle: number;
  readonly #rec: TraceRecorder;

  constructor(inner: UsbFnFile, handle: number, rec: TraceRecorder) {
    super(inner);
    this.handle = handle;
    this.#rec = rec;
  }

  override ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, options?: IoctlOptions): Promise<number> {
    const rec = this.#rec;
    const start = rec.begin();
    const cut = { truncated: false };
    const inDirect = (code & 3) === METHOD_IN_DIRECT;
    const base = {
      kind: 'ioctl' as const,
      ...start,
      handle: this.handle,
      code: code >>> 0,
      name: ioctlName(code),
      input: input === null ? null : rec.hex(input, cut),
      outputSize: output === null ? null : output.byteLength,
      ...(inDirect && output !== null ? { outputData: rec.hex(output, cut) } : {}),
    };
    let request: Promise<number>;
    try {
      request = this.inner.ioctl(code, input, output, options);
    } catch (err) {
      request = Promise.reject(err);
    }
    request.then(
      (bytesReturned) => {
        const written = output === null || inDirect ? null : rec.hex(output.subarray(0, Math.min(bytesReturned, output.byteLength)), cut);
        rec.end({ ...base, bytesReturned, output: written, ...(cut.truncated ? { dataTruncated: true as const } : {}), ...OK });
      },
      (err: unknown) => {
        const written = output === null || inDirect ? null : rec.hex(output, cut);
        rec.end({ ...base, bytesReturned: null, output: written, ...(cut.truncated ? { dataTruncated: true as const } : {}), ...outcomeOf(err) });
      },
    );
    return request;
  }

  override close(): Promise<void> {
    const start = this.#rec.begin();
    const closing = this.inner.close();
    closing.then(
      () => this.#rec.end({ kind: 'close', ...start, handle: this.handle, ...OK }),
      (err: unknown) => this.#rec.end({ kind: 'close', ...start, handle: this.handle, ...outcomeOf(err) }),
    );
    return closing;
  }
}

/** A {@link UsbFnPort} that records a device trace; see the module note. */
export class RecordingUsbFnPort implements UsbFnPort {
  readonly inner: UsbFnPort;
  readonly #rec: TraceRecorder;
  /** The traced files by inner file, so a registration on a handle reaches the inner port with its own file. */
  readonly #files = new WeakMap<UsbFnFile, TracedFile>();

  constructor(inner: UsbFnPort, sink: TraceSink, options: RecordingPortOptions = {}) {
    this.inner = inner;
    this.#rec = new TraceRecorder(sink, inner.clock, {
      backend: options.backend ?? inner.constructor.name,
      os: `${platform()} ${release()} ${arch()}`,
      node: process.version,
      maxDataBytes: options.maxDataBytes ?? DEFAULT_TRACE_MAX_DATA_BYTES,
    });
  }

  get clock(): Clock {
    return this.inner.clock;
  }

  /** Adds a `note` line (a step of the code driving the port); not replayed by `trace check`. */
  note(text: string, data?: Record<string, unknown>): void {
    this.#rec.write({ kind: 'note', seq: this.#rec.nextSeq(), timeMs: this.#rec.now(), text, ...(data === undefined ? {} : { data }) });
  }

  /** Writes the end line (with the number of calls still outstanding) and closes the sink. Idempotent. */
  finish(): Promise<void> {
    return this.#rec.finish();
  }

  async getInterfaceListSize(query: InterfaceListQuery): Promise<number> {
    const start = this.#rec.begin();
    const base = { kind: 'cmCall' as const, ...start, api: 'CM_Get_Device_Interface_List_SizeW' as const, ...queryFields(query) };
    try {
      const size = await this.inner.getInterfaceListSize(query);
      this.#rec.end({ ...base, size, ...CR_OK });
      return size;
    } catch (err) {
      this.#rec.end({ ...base, ...outcomeOf(err) });
      throw err;
    }
  }

  async getInterfaceList(query: InterfaceListQuery, bufferChars: number): Promise<Uint8Array> {
    const start = this.#rec.begin();
    const base = { kind: 'cmCall' as const, ...start, api: 'CM_Get_Device_Interface_ListW' as const, ...queryFields(query), bufferChars };
    try {
      const list = await this.inner.getInterfaceList(query, bufferChars);
      let links: string[] | undefined;
      try {
        links = decodeMultiSz(list);
      } catch {
        links = undefined; // recorded without links; the caller's own decoding reports the malformed list
      }
      this.#rec.end({ ...base, ...(links === undefined ? {} : { links }), ...CR_OK });
      return list;
    } catch (err) {
      this.#rec.end({ ...base, ...outcomeOf(err) });
      throw err;
    }
  }

  watchInterfaces(interfaceClassGuid: GuidString, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#register('deviceInterface', interfaceClassGuid, listener, (l) => this.inner.watchInterfaces(interfaceClassGuid, l));
  }

  watchHandle(file: UsbFnFile, listener: CmNotifyListener): Promise<CmRegistration> {
    const traced = file instanceof TracedFile ? file : this.#files.get(file);
    const inner = traced?.inner ?? file;
    return this.#register('deviceHandle', traced?.handle ?? 0, listener, (l) => this.inner.watchHandle(inner, l));
  }

  watchInstance(deviceInstanceId: string, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#register('deviceInstance', deviceInstanceId, listener, (l) => this.inner.watchInstance(deviceInstanceId, l));
  }

  async open(symbolicLink: string): Promise<UsbFnFile> {
    const start = this.#rec.begin();
    try {
      const inner = await this.inner.open(symbolicLink);
      const traced = new TracedFile(inner, this.#rec.nextHandle(), this.#rec);
      this.#files.set(inner, traced);
      this.#rec.end({ kind: 'open', ...start, symbolicLink, handle: traced.handle, ...OK });
      return traced;
    } catch (err) {
      this.#rec.end({ kind: 'open', ...start, symbolicLink, handle: null, ...outcomeOf(err) });
      throw err;
    }
  }

  async #register(
    filter: CmFilterKind,
    target: string | number,
    listener: CmNotifyListener,
    register: (listener: CmNotifyListener) => Promise<CmRegistration>,
  ): Promise<CmRegistration> {
    const rec = this.#rec;
    const start = rec.begin();
    const name = rec.nextRegistration();
    const traced: CmNotifyListener = (action, eventData) => {
      const base = {
        kind: 'cm' as const,
        seq: rec.nextSeq(),
        timeMs: rec.now(),
        registration: name,
        filter,
        action,
        actionName: ACTION_NAMES.get(action) ?? `CM_NOTIFY_ACTION(${action})`,
        eventDataSize: eventData.byteLength,
        eventData: toHex(eventData),
      };
      let result: number;
      try {
        result = listener(action, eventData);
      } catch (err) {
        rec.write({ ...base, returnSeq: rec.nextSeq(), result: null, threw: err instanceof Error ? err.message : String(err) });
        throw err;
      }
      // The return is a point of its own: what the callback called before it (a CloseHandle) has a submitSeq below it.
      const value = typeof result === 'number' ? result >>> 0 : null;
      rec.write({ ...base, returnSeq: rec.nextSeq(), result: value, ...(value === null ? {} : { resultName: win32ErrorName(value) }) });
      return result;
    };
    let reg: CmRegistration;
    try {
      reg = await register(traced);
    } catch (err) {
      rec.end({ kind: 'cmRegister', ...start, registration: null, filter, target, ...outcomeOf(err) });
      throw err;
    }
    rec.end({ kind: 'cmRegister', ...start, registration: name, filter, target, ...CR_OK });
    return {
      id: reg.id,
      unregister: async () => {
        const s = rec.begin();
        try {
          await reg.unregister();
          rec.end({ kind: 'cmUnregister', ...s, registration: name, ...CR_OK });
        } catch (err) {
          rec.end({ kind: 'cmUnregister', ...s, registration: name, ...outcomeOf(err) });
          throw err;
        }
      },
    };
  }
}

function queryFields(query: InterfaceListQuery): { interfaceClassGuid: string; deviceInstanceId?: string; flags?: number } {
  return {
    interfaceClassGuid: query.interfaceClassGuid,
    ...(query.deviceInstanceId === undefined ? {} : { deviceInstanceId: query.deviceInstanceId }),
    ...(query.flags === undefined ? {} : { flags: query.flags }),
  };
}

/**
 * Wraps `port` so that everything crossing the seam is written to `sink` as a device trace (the header at
 * once). Call {@link RecordingUsbFnPort.finish} at the end of the session.
 * @see docs/reference/device-trace.md
 */
export function recordingPort(port: UsbFnPort, sink: TraceSink, options: RecordingPortOptions = {}): RecordingUsbFnPort {
  return new RecordingUsbFnPort(port, sink, options);
}
