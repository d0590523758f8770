/**
 * Reads a classic pcap of LINKTYPE_USB_LINUX_MMAPPED (220) or LINKTYPE_USB_LINUX (189) back into URB
 * events (docs/reference/captures.md#usbmon-header). Used by tests (round trips of {@link UsbmonPcapWriter}) and by
 * the umockdev tier to derive the expected results of a replay.
 */
import { UsageError } from '../../core/index.js';
import type { UrbEvent } from './urb-event.js';
import {
  LINKTYPE_USB_LINUX,
  LINKTYPE_USB_LINUX_MMAPPED,
  PCAP_GLOBAL_HEADER_BYTES,
  PCAP_MAGIC,
  PCAP_MAGIC_NS,
  PCAP_RECORD_HEADER_BYTES,
  USBMON_FLAG,
  USBMON_XFER_TYPE_NAME,
} from './usbmon-format.js';

/** One decoded record with the raw usbmon fields a URB event does not keep. */
export interface UsbmonRecord {
  readonly event: UrbEvent;
  /** Raw flag_setup byte (0 = setup valid, `'-'`, `'Z'`). */
  readonly flagSetup: number;
  /** Raw flag_data byte (0 = data follows, `'<'`, `'>'`, `'Z'`, `'E'`). */
  readonly flagData: number;
  /** usbmon len_cap: data bytes captured in this record. */
  readonly lenCap: number;
  /** pcap incl_len and orig_len. */
  readonly inclLen: number;
  readonly origLen: number;
}

export interface UsbmonCapture {
  readonly linkType: number;
  readonly snaplen: number;
  readonly littleEndian: boolean;
  readonly records: UsbmonRecord[];
}

function decodeError(message: string, offset: number): UsageError {
  return new UsageError('DECODE', `not a usbmon pcap: ${message} (at byte ${offset}); write it with UsbmonPcapWriter or capture it with tcpdump -i usbmonN`, {
    offset,
  });
}

/**
 * Parses the whole capture, keeping the raw usbmon flags. Data and setup are views into `bytes`.
 * @throws UsageError DECODE for a truncated file, another magic, or a link type other than 220/189.
 */
export function readUsbmonCapture(bytes: Uint8Array): UsbmonCapture {
  if (bytes.length < PCAP_GLOBAL_HEADER_BYTES) throw decodeError(`${bytes.length} bytes is shorter than a pcap header`, 0);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  let nanos: boolean;
  const magicLe = v.getUint32(0, true);
  const magicBe = v.getUint32(0, false);
  if (magicLe === PCAP_MAGIC || magicLe === PCAP_MAGIC_NS) {
    le = true;
    nanos = magicLe === PCAP_MAGIC_NS;
  } else if (magicBe === PCAP_MAGIC || magicBe === PCAP_MAGIC_NS) {
    le = false;
    nanos = magicBe === PCAP_MAGIC_NS;
  } else {
    throw decodeError(`magic 0x${magicLe.toString(16)} is not classic pcap (pcapng is not supported)`, 0);
  }
  const snaplen = v.getUint32(16, le);
  const linkType = v.getUint32(20, le) & 0x0fffffff;
  if (linkType !== LINKTYPE_USB_LINUX_MMAPPED && linkType !== LINKTYPE_USB_LINUX) {
    throw decodeError(`link type ${linkType} is not USB_LINUX_MMAPPED (220) or USB_LINUX (189)`, 20);
  }
  const headerBytes = linkType === LINKTYPE_USB_LINUX_MMAPPED ? 64 : 48;
  const records: UsbmonRecord[] = [];
  let o = PCAP_GLOBAL_HEADER_BYTES;
  while (o < bytes.length) {
    if (o + PCAP_RECORD_HEADER_BYTES > bytes.length) throw decodeError('truncated record header', o);
    const inclLen = v.getUint32(o + 8, le);
    const origLen = v.getUint32(o + 12, le);
    const p = o + PCAP_RECORD_HEADER_BYTES;
    if (p + inclLen > bytes.length) throw decodeError(`record of ${inclLen} bytes runs past the end`, o);
    if (inclLen < headerBytes) throw decodeError(`record of ${inclLen} bytes is shorter than the ${headerBytes}-byte usbmon header`, o);

    // u64/s64 fields: the high word comes first in a big-endian file.
    const idLo = v.getUint32(le ? p : p + 4, le);
    const idHi = v.getUint32(le ? p + 4 : p, le);
    const type = String.fromCharCode(bytes[p + 8] ?? 0);
    if (type !== 'S' && type !== 'C' && type !== 'E') throw decodeError(`event type '${type}' is not S, C or E`, p + 8);
    const transferType = USBMON_XFER_TYPE_NAME[bytes[p + 9] ?? 0xff];
    if (transferType === undefined) throw decodeError(`xfer_type ${bytes[p + 9]} is not 0..3`, p + 9);
    const flagSetup = bytes[p + 14] ?? 0;
    const flagData = bytes[p + 15] ?? 0;
    const tsSec = v.getUint32(le ? p + 16 : p + 20, le) + v.getInt32(le ? p + 20 : p + 16, le) * 0x1_0000_0000;
    const tsSub = v.getInt32(p + 24, le);
    const lenCap = v.getUint32(p + 36, le);
    if (headerBytes + lenCap > inclLen) throw decodeError(`len_cap ${lenCap} exceeds the captured record`, p + 36);
    const dataStart = p + headerBytes;
    const event: UrbEvent = {
      urbId: idHi * 0x1_0000_0000 + idLo,
      kind: type,
      transferType,
      endpoint: bytes[p + 10] ?? 0,
      deviceAddress: bytes[p + 11] ?? 0,
      busNumber: v.getUint16(p + 12, le),
      timeUs: tsSec * 1_000_000 + (nanos ? Math.floor(tsSub / 1000) : tsSub),
      status: v.getInt32(p + 28, le),
      length: v.getUint32(p + 32, le),
      setup: flagSetup === USBMON_FLAG.PRESENT ? bytes.subarray(p + 40, p + 48) : undefined,
      data: flagData === USBMON_FLAG.PRESENT ? bytes.subarray(dataStart, dataStart + lenCap) : undefined,
      transferFlags: headerBytes === 64 ? v.getUint32(p + 56, le) : 0,
      interval: headerBytes === 64 && (transferType === 'interrupt' || transferType === 'isochronous') ? v.getInt32(p + 48, le) : undefined,
    };
    records.push({ event, flagSetup, flagData, lenCap, inclLen, origLen });
    o = p + inclLen;
  }
  return { linkType, snaplen, littleEndian: le, records };
}

/**
 * Parses a usbmon pcap into URB events (setup and data are views into `bytes`).
 * @throws UsageError DECODE as {@link readUsbmonCapture}.
 */
export function readUsbmonPcap(bytes: Uint8Array): UrbEvent[] {
  return readUsbmonCapture(bytes).records.map((r) => r.event);
}
