/**
 * Codec of the USB/IP URB phase: the 48-byte `usbip_header` of `USBIP_CMD_SUBMIT`, `USBIP_RET_SUBMIT`,
 * `USBIP_CMD_UNLINK` and `USBIP_RET_UNLINK`. Big-endian. A header is followed by the transfer buffer
 * (CMD_SUBMIT OUT: `transfer_buffer_length` bytes; RET_SUBMIT IN: `actual_length` bytes) and, for an
 * isochronous URB, its packet descriptors; the codec only knows the header, the session frames the rest.
 *
 * Layout (offsets in bytes, Documentation/usb/usbip_protocol.rst):
 * - usbip_header_basic: command u32 @0, seqnum u32 @4, devid u32 @8, direction u32 @12, ep u32 @16;
 * - CMD_SUBMIT: transfer_flags u32 @20, transfer_buffer_length u32 @24, start_frame i32 @28,
 *   number_of_packets u32 @32, interval u32 @36, setup u8[8] @40;
 * - RET_SUBMIT: status i32 @20, actual_length u32 @24, start_frame i32 @28, number_of_packets u32 @32,
 *   error_count u32 @36, padding u8[8] @40;
 * - CMD_UNLINK: unlink_seqnum u32 @20, padding u8[24] @24;
 * - RET_UNLINK: status i32 @20, padding u8[24] @24.
 *
 * @see https://docs.kernel.org/usb/usbip_protocol.html
 */
import { UsageError } from '../../core/index.js';
import { USBIP_BYTES, USBIP_COMMAND } from './usbip-protocol.js';

/** `usbip_header_basic`. */
interface UsbIpHeaderBasic {
  readonly seqnum: number;
  /** Client: `(busnum << 16) | devnum` of the imported device; server: 0. */
  readonly devid: number;
  /** {@link USBIP_DIR}; the server sends 0. */
  readonly direction: number;
  /** Endpoint number 0–15 (no direction bit); the server sends 0. */
  readonly ep: number;
}

export interface UsbIpCmdSubmit extends UsbIpHeaderBasic {
  readonly command: typeof USBIP_COMMAND.USBIP_CMD_SUBMIT;
  /** {@link URB_FLAG} bits. */
  readonly transferFlags: number;
  readonly transferBufferLength: number;
  readonly startFrame: number;
  /** Isochronous packets; 0 (Linux) or 0xffffffff (protocol document) otherwise. */
  readonly numberOfPackets: number;
  readonly interval: number;
  /** The 8 SETUP bytes (zeros unless control). */
  readonly setup: Uint8Array;
}

export interface UsbIpRetSubmit extends UsbIpHeaderBasic {
  readonly command: typeof USBIP_COMMAND.USBIP_RET_SUBMIT;
  /** 0 or a negative Linux errno (usbip-status.ts). */
  readonly status: number;
  readonly actualLength: number;
  readonly startFrame: number;
  readonly numberOfPackets: number;
  readonly errorCount: number;
}

export interface UsbIpCmdUnlink extends UsbIpHeaderBasic {
  readonly command: typeof USBIP_COMMAND.USBIP_CMD_UNLINK;
  /** The seqnum of the CMD_SUBMIT to unlink. */
  readonly unlinkSeqnum: number;
}

export interface UsbIpRetUnlink extends UsbIpHeaderBasic {
  readonly command: typeof USBIP_COMMAND.USBIP_RET_UNLINK;
  /** -ECONNRESET when the URB was unlinked, 0 when it had already completed (its RET_SUBMIT went first). */
  readonly status: number;
}

export type UsbIpUrbHeader = UsbIpCmdSubmit | UsbIpRetSubmit | UsbIpCmdUnlink | UsbIpRetUnlink;

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function writeBasic(v: DataView, offset: number, command: number, h: UsbIpHeaderBasic): void {
  v.setUint32(offset, command);
  v.setUint32(offset + 4, h.seqnum);
  v.setUint32(offset + 8, h.devid);
  v.setUint32(offset + 12, h.direction);
  v.setUint32(offset + 16, h.ep);
}

function header(target: Uint8Array | undefined, offset: number): Uint8Array {
  const out = target ?? new Uint8Array(USBIP_BYTES.HEADER);
  if (target !== undefined) out.fill(0, offset, offset + USBIP_BYTES.HEADER);
  return out;
}

/** Encodes a CMD_SUBMIT header (48 bytes at `offset` of `target`, or a fresh buffer). */
export function encodeCmdSubmit(h: Omit<UsbIpCmdSubmit, 'command'>, target?: Uint8Array, offset = 0): Uint8Array {
  const out = header(target, offset);
  const v = view(out);
  writeBasic(v, offset, USBIP_COMMAND.USBIP_CMD_SUBMIT, h);
  v.setUint32(offset + 20, h.transferFlags);
  v.setUint32(offset + 24, h.transferBufferLength);
  v.setInt32(offset + 28, h.startFrame);
  v.setUint32(offset + 32, h.numberOfPackets);
  v.setUint32(offset + 36, h.interval);
  if (h.setup.length !== 8) throw new UsageError('INVALID_ARGUMENT', `a CMD_SUBMIT setup has 8 bytes, not ${h.setup.length}`);
  out.set(h.setup, offset + 40);
  return out;
}

/** Encodes a RET_SUBMIT header. */
export function encodeRetSubmit(h: Omit<UsbIpRetSubmit, 'command'>, target?: Uint8Array, offset = 0): Uint8Array {
  const out = header(target, offset);
  const v = view(out);
  writeBasic(v, offset, USBIP_COMMAND.USBIP_RET_SUBMIT, h);
  v.setInt32(offset + 20, h.status);
  v.setUint32(offset + 24, h.actualLength);
  v.setInt32(offset + 28, h.startFrame);
  v.setUint32(offset + 32, h.numberOfPackets);
  v.setUint32(offset + 36, h.errorCount);
  return out;
}

/** Encodes a CMD_UNLINK header. */
export function encodeCmdUnlink(h: Omit<UsbIpCmdUnlink, 'command'>, target?: Uint8Array, offset = 0): Uint8Array {
  const out = header(target, offset);
  const v = view(out);
  writeBasic(v, offset, USBIP_COMMAND.USBIP_CMD_UNLINK, h);
  v.setUint32(offset + 20, h.unlinkSeqnum);
  return out;
}

/** Encodes a RET_UNLINK header. */
export function encodeRetUnlink(h: Omit<UsbIpRetUnlink, 'command'>, target?: Uint8Array, offset = 0): Uint8Array {
  const out = header(target, offset);
  const v = view(out);
  writeBasic(v, offset, USBIP_COMMAND.USBIP_RET_UNLINK, h);
  v.setInt32(offset + 20, h.status);
  return out;
}

/**
 * Decodes the 48-byte header at `offset`.
 * @throws UsageError USBIP_PROTOCOL when fewer than 48 bytes are given or the command is none of the four.
 */
export function decodeUrbHeader(source: Uint8Array, offset = 0): UsbIpUrbHeader {
  if (source.length - offset < USBIP_BYTES.HEADER) {
    throw new UsageError('USBIP_PROTOCOL', `a usbip_header has ${USBIP_BYTES.HEADER} bytes, got ${source.length - offset}`);
  }
  const v = view(source);
  const command = v.getUint32(offset);
  const seqnum = v.getUint32(offset + 4);
  const devid = v.getUint32(offset + 8);
  const direction = v.getUint32(offset + 12);
  const ep = v.getUint32(offset + 16);
  switch (command) {
    case USBIP_COMMAND.USBIP_CMD_SUBMIT:
      return {
        command,
        seqnum,
        devid,
        direction,
        ep,
        transferFlags: v.getUint32(offset + 20),
        transferBufferLength: v.getUint32(offset + 24),
        startFrame: v.getInt32(offset + 28),
        numberOfPackets: v.getUint32(offset + 32),
        interval: v.getUint32(offset + 36),
        setup: source.slice(offset + 40, offset + 48),
      };
    case USBIP_COMMAND.USBIP_RET_SUBMIT:
      return {
        command,
        seqnum,
        devid,
        direction,
        ep,
        status: v.getInt32(offset + 20),
        actualLength: v.getUint32(offset + 24),
        startFrame: v.getInt32(offset + 28),
        numberOfPackets: v.getUint32(offset + 32),
        errorCount: v.getUint32(offset + 36),
      };
    case USBIP_COMMAND.USBIP_CMD_UNLINK:
      return { command, seqnum, devid, direction, ep, unlinkSeqnum: v.getUint32(offset + 20) };
    case USBIP_COMMAND.USBIP_RET_UNLINK:
      return { command, seqnum, devid, direction, ep, status: v.getInt32(offset + 20) };
    default:
      throw new UsageError('USBIP_PROTOCOL', `unknown usbip_header command 0x${command.toString(16).padStart(8, '0')} (seqnum ${seqnum})`);
  }
}
