/**
 * Classic pcap files as the capture tools write them (dumpcap `-P`, tshark `-F pcap`, USBPcapCMD): the
 * 24-byte global header and 16-byte record headers, in either byte order, with microsecond or nanosecond
 * timestamps. Only what host capture needs: check a file, cut a truncated last record, and keep the records
 * of one time window. The link-type payload (usbmon, USBPcap) is not decoded here.
 * @see https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html (the pcap file format)
 */
import { UsageError } from '../../../core/index.js';

export const PCAP_GLOBAL_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
/** pcapng's Section Header Block type (what dumpcap writes without `-P`). */
const PCAPNG_SHB = 0x0a0d0d0a;

/** LINKTYPE_USB_LINUX_MMAPPED: Linux usbmon with the 64-byte header. */
export const LINKTYPE_USB_LINUX_MMAPPED = 220;
/** LINKTYPE_USB_LINUX: Linux usbmon with the 48-byte header. */
export const LINKTYPE_USB_LINUX = 189;
/** LINKTYPE_USBPCAP: Windows USBPcap. */
export const LINKTYPE_USBPCAP = 249;

export interface PcapHeader {
  readonly littleEndian: boolean;
  readonly nanosecond: boolean;
  readonly snaplen: number;
  readonly linkType: number;
}

export interface PcapRecord {
  /** Offset of the record header in the file. */
  readonly offset: number;
  /** Record header + captured bytes. */
  readonly byteLength: number;
  /** Timestamp in microseconds since the Unix epoch (nanosecond files are rounded down). */
  readonly timeUs: number;
}

function decodeError(message: string, offset: number): UsageError {
  return new UsageError('DECODE', `not a classic pcap file: ${message} (at byte ${offset}). Capture with dumpcap -P (or tshark -F pcap) so the file is pcap, not pcapng`, { offset });
}

/**
 * Reads the global header.
 * @throws UsageError DECODE for a short file, pcapng, or another magic.
 */
export function readPcapHeader(bytes: Uint8Array): PcapHeader {
  if (bytes.length < PCAP_GLOBAL_HEADER_BYTES) throw decodeError(`${bytes.length} bytes is shorter than the 24-byte header`, 0);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = v.getUint32(0, true);
  const be = v.getUint32(0, false);
  let littleEndian: boolean;
  if (le === MAGIC_US || le === MAGIC_NS) littleEndian = true;
  else if (be === MAGIC_US || be === MAGIC_NS) littleEndian = false;
  else if (le === PCAPNG_SHB) throw decodeError('it is pcapng', 0);
  else throw decodeError(`magic 0x${le.toString(16).padStart(8, '0')}`, 0);
  const magic = v.getUint32(0, littleEndian);
  return {
    littleEndian,
    nanosecond: magic === MAGIC_NS,
    snaplen: v.getUint32(16, littleEndian),
    // The upper 4 bits may carry FCS information (pcap format, LinkType field).
    linkType: v.getUint32(20, littleEndian) & 0x0fffffff,
  };
}

/** The records of a file, and where a truncated last record starts (if any). */
export function pcapRecords(bytes: Uint8Array): { header: PcapHeader; records: PcapRecord[]; truncatedAt: number | undefined } {
  const header = readPcapHeader(bytes);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: PcapRecord[] = [];
  let o = PCAP_GLOBAL_HEADER_BYTES;
  while (o < bytes.length) {
    if (o + PCAP_RECORD_HEADER_BYTES > bytes.length) return { header, records, truncatedAt: o };
    const sec = v.getUint32(o, header.littleEndian);
    const sub = v.getUint32(o + 4, header.littleEndian);
    const inclLen = v.getUint32(o + 8, header.littleEndian);
    if (header.snaplen > 0 && inclLen > Math.max(header.snaplen, 0x40000) * 4) throw decodeError(`record length ${inclLen} is far beyond snaplen ${header.snaplen}`, o);
    const end = o + PCAP_RECORD_HEADER_BYTES + inclLen;
    if (end > bytes.length) return { header, records, truncatedAt: o };
    records.push({ offset: o, byteLength: end - o, timeUs: sec * 1_000_000 + (header.nanosecond ? Math.floor(sub / 1000) : sub) });
    o = end;
  }
  return { header, records, truncatedAt: undefined };
}

/** The file without a truncated last record (a writer killed mid-record); the same bytes when complete. */
export function completePcap(bytes: Uint8Array): Uint8Array {
  const { truncatedAt } = pcapRecords(bytes);
  return truncatedAt === undefined ? bytes : bytes.slice(0, truncatedAt);
}

/**
 * Keeps the records whose timestamp lies in `[startUs, endUs]` (host wall clock, µs since the epoch), with
 * the global header: one scenario's part of a longer capture.
 * @throws UsageError DECODE as {@link readPcapHeader}; INVALID_ARGUMENT when the window ends before it starts.
 */
export function trimPcapToWindow(bytes: Uint8Array, window: { readonly startUs: number; readonly endUs: number }): Uint8Array {
  if (!(window.endUs >= window.startUs)) {
    throw new UsageError('INVALID_ARGUMENT', `capture window ends (${window.endUs} µs) before it starts (${window.startUs} µs)`, { ...window });
  }
  const { records } = pcapRecords(bytes);
  const kept = records.filter((r) => r.timeUs >= window.startUs && r.timeUs <= window.endUs);
  const out = new Uint8Array(PCAP_GLOBAL_HEADER_BYTES + kept.reduce((n, r) => n + r.byteLength, 0));
  out.set(bytes.subarray(0, PCAP_GLOBAL_HEADER_BYTES), 0);
  let o = PCAP_GLOBAL_HEADER_BYTES;
  for (const r of kept) {
    out.set(bytes.subarray(r.offset, r.offset + r.byteLength), o);
    o += r.byteLength;
  }
  return out;
}
