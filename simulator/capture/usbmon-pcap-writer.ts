/**
 * Writes URB events as a classic pcap of LINKTYPE_USB_LINUX_MMAPPED (220) with the kernel's usbmon
 * semantics (docs/reference/captures.md#usbmon-header; Linux `drivers/usb/mon/mon_bin.c`), so that Wireshark and
 * tshark decode it and umockdev's `--pcap` replay can feed it to real libusb.
 *
 * Byte order: little-endian throughout, with the magic 0xa1b2c3d4 itself written LE (`d4 c3 b2 a1`),
 * which tells readers that the file and the usbmon headers are LE.
 */
import { writeFile } from 'node:fs/promises';
import { UsageError } from '../../core/index.js';
import type { UrbEvent, UrbSink } from './urb-event.js';
import {
  DEFAULT_SNAPLEN,
  LINKTYPE_USB_LINUX_MMAPPED,
  PCAP_GLOBAL_HEADER_BYTES,
  PCAP_MAGIC,
  PCAP_RECORD_HEADER_BYTES,
  USBMON_EVENT,
  USBMON_FLAG,
  USBMON_HEADER_BYTES,
  USBMON_XFER_TYPE,
} from './usbmon-format.js';

export interface UsbmonPcapWriterOptions {
  /**
   * pcap snaplen: the most bytes kept per record, usbmon header included (so at least 64). Data beyond
   * `snaplen - 64` is not captured; `len_cap` says how much is, `orig_len` keeps the full length.
   * Default 262144 (libpcap's usbmon default).
   */
  readonly snaplen?: number | undefined;
  /** Added to every event's `timeUs` (virtual time starts at 0, i.e. 1970). Default 0. */
  readonly baseTimeUs?: number | undefined;
  /** Largest storage chunk. Default 256 KiB; the first is 16 KiB (or this, if smaller) and each next one twice the last. */
  readonly chunkBytes?: number | undefined;
}

const PER_RECORD_FIXED = PCAP_RECORD_HEADER_BYTES + USBMON_HEADER_BYTES;
const FIRST_CHUNK_BYTES = 16 * 1024;

/**
 * A {@link UrbSink} that accumulates a usbmon pcap in memory.
 *
 * @example
 * const capture = new UsbmonPcapWriter();
 * bus.setCaptureSink(capture);
 * // ... run ...
 * await capture.writeFile('reports/run.pcap');
 * @see https://www.kernel.org/doc/html/latest/usb/usbmon.html
 * @see https://www.tcpdump.org/linktypes/LINKTYPE_USB_LINUX_MMAPPED.html
 */
export class UsbmonPcapWriter implements UrbSink {
  readonly snaplen: number;
  readonly #baseTimeUs: number;
  readonly #chunkBytes: number;
  /** Full chunks, each trimmed to its used length. */
  readonly #done: Uint8Array[] = [];
  #doneBytes = 0;
  #chunk: Uint8Array;
  #view: DataView;
  #used = 0;
  #records = 0;

  /** @throws UsageError INVALID_ARGUMENT when snaplen is below 64 or not an integer. */
  constructor(options: UsbmonPcapWriterOptions = {}) {
    const snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
    if (!Number.isInteger(snaplen) || snaplen < USBMON_HEADER_BYTES || snaplen > 0x7fffffff) {
      throw new UsageError(
        'INVALID_ARGUMENT',
        `snaplen ${snaplen} is invalid: it must be an integer of at least ${USBMON_HEADER_BYTES} (the usbmon header)`,
        { snaplen },
      );
    }
    this.snaplen = snaplen;
    this.#baseTimeUs = options.baseTimeUs ?? 0;
    this.#chunkBytes = Math.max(options.chunkBytes ?? 256 * 1024, PCAP_GLOBAL_HEADER_BYTES + PER_RECORD_FIXED);
    // Most scenarios capture a few KiB: a small first chunk keeps a world cheap to build (a fresh 256 KiB is
    // a zero-filled allocation per scenario); the chunks double up to chunkBytes for a long capture.
    this.#chunk = new Uint8Array(Math.min(FIRST_CHUNK_BYTES, this.#chunkBytes));
    this.#view = new DataView(this.#chunk.buffer);
    this.#writeGlobalHeader();
  }

  /** Bytes written so far (global header included). */
  get byteLength(): number {
    return this.#doneBytes + this.#used;
  }

  /** Records (URB events) written so far. */
  get recordCount(): number {
    return this.#records;
  }

  /**
   * Appends one URB event with mon_bin.c rules: an IN submit carries no data (`flag_data '<'`), an OUT
   * completion carries none (`'>'`), a control submit carries the SETUP packet (`flag_setup 0`).
   * @throws UsageError INVALID_ARGUMENT for a control submit without an 8-byte setup (a bus bug).
   */
  record(event: UrbEvent): void {
    const isIn = (event.endpoint & 0x80) !== 0;
    const kind = event.kind;

    // mon_bin_get_setup(): only a control submit has a setup; '-' otherwise; 'Z' if the URB has none.
    let flagSetup: number = USBMON_FLAG.NOT_SETUP;
    if (kind === 'S' && event.transferType === 'control') {
      if (event.setup === undefined) flagSetup = USBMON_FLAG.NONE;
      else if (event.setup.length !== 8) {
        throw new UsageError(
          'INVALID_ARGUMENT',
          `control submit urb ${event.urbId} has a ${event.setup.length}-byte setup: a SETUP packet is 8 bytes (USB 2.0 §9.3)`,
          { urbId: event.urbId },
        );
      } else flagSetup = USBMON_FLAG.PRESENT;
    }

    // mon_bin_event(): IN submit → '<', OUT completion → '>', error → 'E'; otherwise data follows (0).
    let data: Uint8Array | undefined;
    let flagData: number;
    if (kind === 'E') {
      flagData = USBMON_FLAG.ERROR;
    } else if (isIn && kind === 'S') {
      flagData = USBMON_FLAG.IN_SUBMIT;
    } else if (!isIn && kind === 'C') {
      flagData = USBMON_FLAG.OUT_COMPLETE;
    } else if (event.data !== undefined) {
      flagData = USBMON_FLAG.PRESENT;
      data = event.data;
    } else {
      // No buffer: 0 if nothing was expected anyway, 'Z' (no buffer) otherwise.
      flagData = event.length === 0 ? USBMON_FLAG.PRESENT : USBMON_FLAG.NONE;
    }

    const fullData = data === undefined ? 0 : data.length;
    const lenCap = Math.min(fullData, this.snaplen - USBMON_HEADER_BYTES);
    const inclLen = USBMON_HEADER_BYTES + lenCap;
    const origLen = USBMON_HEADER_BYTES + fullData;

    this.#reserve(PCAP_RECORD_HEADER_BYTES + inclLen);
    const v = this.#view;
    const b = this.#chunk;
    let o = this.#used;

    const t = this.#baseTimeUs + event.timeUs;
    const sec = Math.floor(t / 1_000_000);
    const usec = Math.round(t - sec * 1_000_000);

    // pcap record header
    v.setUint32(o, sec >>> 0, true); //           ts_sec
    v.setUint32(o + 4, usec, true); //            ts_usec
    v.setUint32(o + 8, inclLen, true); //         incl_len
    v.setUint32(o + 12, origLen, true); //        orig_len
    o += PCAP_RECORD_HEADER_BYTES;

    // struct usbmon_packet (64 bytes)
    v.setUint32(o, event.urbId >>> 0, true); //                             0 id (u64, low)
    v.setUint32(o + 4, Math.floor(event.urbId / 0x1_0000_0000) >>> 0, true); //   id (high)
    b[o + 8] = USBMON_EVENT[kind]; //                                       8 type
    b[o + 9] = USBMON_XFER_TYPE[event.transferType]; //                     9 xfer_type
    b[o + 10] = event.endpoint & 0xff; //                                  10 epnum (| 0x80 IN)
    b[o + 11] = event.deviceAddress & 0xff; //                             11 devnum
    v.setUint16(o + 12, event.busNumber, true); //                         12 busnum
    b[o + 14] = flagSetup; //                                              14 flag_setup
    b[o + 15] = flagData; //                                               15 flag_data
    v.setUint32(o + 16, sec >>> 0, true); //                               16 ts_sec (s64, low)
    v.setInt32(o + 20, Math.floor(sec / 0x1_0000_0000), true); //             ts_sec (high)
    v.setInt32(o + 24, usec, true); //                                     24 ts_usec
    v.setInt32(o + 28, event.status, true); //                             28 status
    v.setUint32(o + 32, event.length >>> 0, true); //                      32 length (urb)
    v.setUint32(o + 36, lenCap, true); //                                  36 len_cap
    if (flagSetup === USBMON_FLAG.PRESENT && event.setup !== undefined) {
      b.set(event.setup, o + 40); //                                       40 setup[8]
    } else {
      v.setUint32(o + 40, 0, true); //                                        (iso error_count / numdesc: 0)
      v.setUint32(o + 44, 0, true);
    }
    const periodic = event.transferType === 'interrupt' || event.transferType === 'isochronous';
    v.setInt32(o + 48, periodic ? (event.interval ?? 0) : 0, true); //     48 interval
    v.setInt32(o + 52, 0, true); //                                        52 start_frame
    v.setUint32(o + 56, event.transferFlags >>> 0, true); //              56 xfer_flags
    v.setUint32(o + 60, 0, true); //                                       60 ndesc
    o += USBMON_HEADER_BYTES;

    if (data !== undefined && lenCap > 0) {
      b.set(lenCap === data.length ? data : data.subarray(0, lenCap), o);
      o += lenCap;
    }
    this.#used = o;
    this.#records++;
  }

  /** The capture so far as one contiguous pcap (a copy; the writer keeps accepting records). */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    let o = 0;
    for (const c of this.#done) {
      out.set(c, o);
      o += c.length;
    }
    out.set(this.#chunk.subarray(0, this.#used), o);
    return out;
  }

  /** Writes the capture to `path` (e.g. for an Allure attachment or `tshark -r`). */
  async writeFile(path: string): Promise<void> {
    await writeFile(path, this.toBytes());
  }

  #writeGlobalHeader(): void {
    const v = this.#view;
    v.setUint32(0, PCAP_MAGIC, true); //                    magic_number (LE: d4 c3 b2 a1)
    v.setUint16(4, 2, true); //                             version_major
    v.setUint16(6, 4, true); //                             version_minor
    v.setInt32(8, 0, true); //                              thiszone
    v.setUint32(12, 0, true); //                            sigfigs
    v.setUint32(16, this.snaplen, true); //                 snaplen
    v.setUint32(20, LINKTYPE_USB_LINUX_MMAPPED, true); //   network
    this.#used = PCAP_GLOBAL_HEADER_BYTES;
  }

  /** Makes room for `bytes` contiguous bytes in the current chunk (a record never spans chunks). */
  #reserve(bytes: number): void {
    if (this.#used + bytes <= this.#chunk.length) return;
    if (this.#used > 0) {
      this.#done.push(this.#chunk.subarray(0, this.#used));
      this.#doneBytes += this.#used;
    }
    this.#chunk = new Uint8Array(Math.max(Math.min(this.#chunk.length * 2, this.#chunkBytes), bytes));
    this.#view = new DataView(this.#chunk.buffer);
    this.#used = 0;
  }
}
