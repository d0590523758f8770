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

/** The log entry of a completed request, at `timeMs`. */
export function ioctlLogEntry(req: IoRequest, timeMs: number): IoctlLogEntry {
  const win32 = requestWin32(req);
  const name = win32ErrorName(win32);
  return {
    kind: 'ioctl',
    timeMs,
    submittedMs: req.submittedMs,
    handle: req.handle,
    ioctl: ioctlName(req.code),
    pipe: req.pipe,
    bytes: req.output?.length ?? 0,
    bytesReturned: req.information,
    win32,
    outcome: req.simulatorError !== undefined ? 'SIM_LINK_FAILURE' : name === 'UNKNOWN_WIN32_ERROR' ? `WIN32_${win32}` : name,
  };
}

/** A bounded ring of {@link DriverLogEntry}; the oldest entries fall off. */
export class DriverLog {
  readonly capacity: number;
  #ring: DriverLogEntry[] = [];
  #next = 0;
  #total = 0;

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
    if (this.capacity === 0) return;
    this.#total++;
    if (this.#ring.length < this.capacity) {
      this.#ring.push(entry);
      return;
    }
    this.#ring[this.#next] = entry;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** The kept entries, oldest first. */
  entries(): DriverLogEntry[] {
    return this.#ring.length < this.capacity || this.#next === 0
      ? this.#ring.slice()
      : [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }

  clear(): void {
    this.#ring = [];
    this.#next = 0;
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
}
