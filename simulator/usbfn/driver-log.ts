/**
 * The GenericUSBFn model's event log: every IOCTL (when it completed, on which handle, which pipe, how
 * many bytes, what outcome), every bus event and where it went, every open/close. Reports attach it as
 * the device event log (docs/architecture.md#observable-through-usb). Bounded, so a long soak does not grow the heap.
 */
import { ioctlName, win32ErrorName } from '../../device-side/index.js';
import type { UfxBusEvent } from '../link/index.js';
import type { IoRequest } from './io-request.js';
import { requestWin32 } from './usbfn-file-object.js';

/** One completed IOCTL. */
export interface IoctlLogEntry {
  readonly kind: 'ioctl';
  /** Completion time on the model's clock (ms). */
  readonly timeMs: number;
  /** Submission time (ms); equal to `timeMs` for immediate IOCTLs. */
  readonly submittedMs: number;
  /** Handle (file object) id. */
  readonly handle: number;
  /** IOCTL name (`IOCTL_GENERICUSBFN_TRANSFER_IN`) or `IOCTL_0x…` for unknown codes. */
  readonly ioctl: string;
  /** USBFNPIPEID from the input buffer, when the IOCTL carries one. */
  readonly pipe: number | undefined;
  /** Output buffer length (transfer size for TRANSFER_*). */
  readonly bytes: number;
  /** lpBytesReturned. */
  readonly bytesReturned: number;
  /** Win32 result (0 on success). */
  readonly win32: number;
  /** `ERROR_SUCCESS` or the Win32 error name. */
  readonly outcome: string;
}

/** One bus event from UFX and what the model did with it. */
export interface BusEventLogEntry {
  readonly kind: 'busEvent';
  readonly timeMs: number;
  readonly handle: number | undefined;
  readonly event: UfxBusEvent['type'];
  /** `completed` a pending BUS_EVENT_NOTIFICATION; `queued`; `overflow` (queued, oldest dropped); `noHandle` (no open handle: dropped). */
  readonly delivery: 'completed' | 'queued' | 'overflow' | 'noHandle';
}

/** A handle was opened, closed or invalidated by removal. */
export interface FileLogEntry {
  readonly kind: 'file';
  readonly timeMs: number;
  readonly handle: number | undefined;
  readonly action: 'open' | 'close' | 'removed';
  readonly outcome: string;
}

export type DriverLogEntry = IoctlLogEntry | BusEventLogEntry | FileLogEntry;

/** Default number of entries kept. */
export const DEFAULT_DRIVER_LOG_CAPACITY = 4096;

/** First size of the columns; they double up to the capacity (a short scenario does not pay for 4096 slots). */
const INITIAL_SLOTS = 64;

const KIND_IOCTL = 0;
const KIND_BUS_EVENT = 1;
const KIND_FILE = 2;
/** Columns' encoding of `undefined` (handles and pipe ids are never NaN). */
const NONE = Number.NaN;
const orNone = (v: number | undefined): number => (v === undefined ? NONE : v);
const orUndefined = (v: number): number | undefined => (Number.isNaN(v) ? undefined : v);

/** The `outcome` of an IOCTL entry. */
function ioctlOutcome(win32: number, simulatorError: boolean): string {
  if (simulatorError) return 'SIM_LINK_FAILURE';
  const name = win32ErrorName(win32);
  return name === 'UNKNOWN_WIN32_ERROR' ? `WIN32_${win32}` : name;
}

/**
 * A bounded ring of {@link DriverLogEntry}; the oldest entries fall off.
 *
 * @note The entries are kept in columns (typed arrays of numbers and one array of string references) and
 * become objects only when read ({@link entries}). One object per IOCTL, kept for the next 4096, is what
 * a generational GC handles worst: every entry outlived the young generation, so V8 pretenured them into
 * old-space pages it kept taking fresh from the kernel (page faults, ~15 µs each in a VM with shadow
 * paging) and marking. With the columns a logged IOCTL allocates nothing; the log was a third of a
 * simulated control transfer's cost (bench/README.md).
 */
export class DriverLog {
  readonly capacity: number;
  /** Slot of the next entry, and entries held (≤ capacity). */
  #next = 0;
  #count = 0;
  #total = 0;
  #kind: Uint8Array = new Uint8Array(0);
  #timeMs: Float64Array = new Float64Array(0);
  /** IOCTL: submittedMs. */
  #submittedMs: Float64Array = new Float64Array(0);
  #handle: Float64Array = new Float64Array(0);
  /** IOCTL: the code; others unused. */
  #code: Float64Array = new Float64Array(0);
  /** IOCTL: pipe, bytes, bytesReturned, win32; 1 in #flag when a simulator error ended it. */
  #pipe: Float64Array = new Float64Array(0);
  #bytes: Float64Array = new Float64Array(0);
  #returned: Float64Array = new Float64Array(0);
  #win32: Float64Array = new Float64Array(0);
  #flag: Uint8Array = new Uint8Array(0);
  /** Bus event: event type and delivery; file: action and outcome. */
  #text1: string[] = [];
  #text2: string[] = [];

  /** `capacity` 0 disables logging (benchmarks). */
  constructor(capacity = DEFAULT_DRIVER_LOG_CAPACITY) {
    this.capacity = Math.max(0, Math.floor(capacity));
  }

  /** Entries recorded since creation (including those that fell off). */
  get total(): number {
    return this.#total;
  }

  get enabled(): boolean {
    return this.capacity > 0;
  }

  add(entry: DriverLogEntry): void {
    switch (entry.kind) {
      case 'ioctl': {
        const i = this.#slot(KIND_IOCTL, entry.timeMs, entry.handle);
        if (i < 0) return;
        this.#submittedMs[i] = entry.submittedMs;
        // An entry built by hand keeps its names: the code column is unused (NaN) and the texts hold them.
        this.#code[i] = NONE;
        this.#text1[i] = entry.ioctl;
        this.#text2[i] = entry.outcome;
        this.#pipe[i] = orNone(entry.pipe);
        this.#bytes[i] = entry.bytes;
        this.#returned[i] = entry.bytesReturned;
        this.#win32[i] = entry.win32;
        return;
      }
      case 'busEvent':
        this.addBusEvent(entry.timeMs, entry.handle, entry.event, entry.delivery);
        return;
      case 'file':
        this.addFile(entry.timeMs, entry.handle, entry.action, entry.outcome);
    }
  }

  /** Logs a completed request at `timeMs` (its entry is made only when read). */
  addIoctl(req: IoRequest, timeMs: number): void {
    const i = this.#slot(KIND_IOCTL, timeMs, req.handle);
    if (i < 0) return;
    this.#submittedMs[i] = req.submittedMs;
    this.#code[i] = req.code;
    this.#pipe[i] = orNone(req.pipe);
    this.#bytes[i] = req.output?.length ?? 0;
    this.#returned[i] = req.information;
    this.#win32[i] = requestWin32(req);
    this.#flag[i] = req.simulatorError !== undefined ? 1 : 0;
  }

  /** Logs a bus event and where it went. */
  addBusEvent(timeMs: number, handle: number | undefined, event: UfxBusEvent['type'], delivery: BusEventLogEntry['delivery']): void {
    const i = this.#slot(KIND_BUS_EVENT, timeMs, handle);
    if (i < 0) return;
    this.#text1[i] = event;
    this.#text2[i] = delivery;
  }

  /** Logs an open, close or removal of a handle. */
  addFile(timeMs: number, handle: number | undefined, action: FileLogEntry['action'], outcome: string): void {
    const i = this.#slot(KIND_FILE, timeMs, handle);
    if (i < 0) return;
    this.#text1[i] = action;
    this.#text2[i] = outcome;
  }

  /** The kept entries, oldest first (objects made now: later entries do not change them). */
  entries(): DriverLogEntry[] {
    const out: DriverLogEntry[] = [];
    const first = this.#count < this.capacity ? 0 : this.#next;
    for (let k = 0; k < this.#count; k++) out.push(this.#entry((first + k) % this.#count));
    return out;
  }

  clear(): void {
    this.#next = 0;
    this.#count = 0;
    this.#text1.fill('');
    this.#text2.fill('');
  }

  /** One line per entry, for a text attachment. */
  format(): string {
    return this.entries()
      .map((e) => {
        const t = e.timeMs.toFixed(3).padStart(12);
        switch (e.kind) {
          case 'ioctl':
            return `${t} h${e.handle} ${e.ioctl}${e.pipe === undefined ? '' : ` pipe ${e.pipe}`} bytes=${e.bytes} returned=${e.bytesReturned} → ${e.outcome}`;
          case 'busEvent':
            return `${t} ${e.handle === undefined ? '--' : `h${e.handle}`} event ${e.event} → ${e.delivery}`;
          case 'file':
            return `${t} ${e.handle === undefined ? '--' : `h${e.handle}`} ${e.action} → ${e.outcome}`;
        }
      })
      .join('\n');
  }

  /** Claims the slot of a new entry and writes its common fields; -1 when logging is off. */
  #slot(kind: number, timeMs: number, handle: number | undefined): number {
    if (this.capacity === 0) return -1;
    this.#total++;
    if (this.#count < this.capacity) {
      if (this.#count === this.#kind.length) this.#grow();
      this.#count++;
    }
    const i = this.#next;
    this.#next = this.#next + 1 === this.capacity ? 0 : this.#next + 1;
    this.#kind[i] = kind;
    this.#timeMs[i] = timeMs;
    this.#handle[i] = orNone(handle);
    return i;
  }

  #grow(): void {
    const n = Math.min(this.capacity, Math.max(INITIAL_SLOTS, this.#kind.length * 2));
    const f64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(n);
      b.set(a);
      return b;
    };
    this.#kind = u8(this.#kind);
    this.#flag = u8(this.#flag);
    this.#timeMs = f64(this.#timeMs);
    this.#submittedMs = f64(this.#submittedMs);
    this.#handle = f64(this.#handle);
    this.#code = f64(this.#code);
    this.#pipe = f64(this.#pipe);
    this.#bytes = f64(this.#bytes);
    this.#returned = f64(this.#returned);
    this.#win32 = f64(this.#win32);
    for (let i = this.#text1.length; i < n; i++) {
      this.#text1.push('');
      this.#text2.push('');
    }
  }

  /** Slot `i` as the object {@link add} was given (same keys, same order). */
  #entry(i: number): DriverLogEntry {
    const timeMs = this.#timeMs[i]!;
    const handle = orUndefined(this.#handle[i]!);
    switch (this.#kind[i]) {
      case KIND_IOCTL: {
        const code = this.#code[i]!;
        const win32 = this.#win32[i]!;
        const byCode = !Number.isNaN(code);
        return {
          kind: 'ioctl',
          timeMs,
          submittedMs: this.#submittedMs[i]!,
          handle: handle!,
          ioctl: byCode ? ioctlName(code) : this.#text1[i]!,
          pipe: orUndefined(this.#pipe[i]!),
          bytes: this.#bytes[i]!,
          bytesReturned: this.#returned[i]!,
          win32,
          outcome: byCode ? ioctlOutcome(win32, this.#flag[i] === 1) : this.#text2[i]!,
        };
      }
      case KIND_BUS_EVENT:
        return { kind: 'busEvent', timeMs, handle, event: this.#text1[i] as UfxBusEvent['type'], delivery: this.#text2[i] as BusEventLogEntry['delivery'] };
      default:
        return { kind: 'file', timeMs, handle, action: this.#text1[i] as FileLogEntry['action'], outcome: this.#text2[i]! };
    }
  }
}
