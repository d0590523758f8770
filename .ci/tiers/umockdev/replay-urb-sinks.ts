/**
 * URB sinks that shape a simulated capture for umockdev's `--pcap` replay. umockdev matches the URBs a
 * client submits against the recording one by one (type, endpoint, length, OUT bytes) and answers them
 * with the recorded completions; these sinks sit between the simulated bus and the UsbmonPcapWriter.
 *
 * @see https://github.com/martinpitt/umockdev (src/umockdev-pcap.vala: how a recording is matched)
 */
import type { UrbEvent, UrbSink } from '../../../simulator/index.js';

/** urb->transfer_flags URB_ZERO_PACKET (docs/reference/captures.md#usbmon-header). */
export const URB_ZERO_PACKET = 0x40;
/** Added to a split URB's tag for its zero-length companion (sim tags are small counters). */
const ZLP_TAG_OFFSET = 0x1_0000_0000;

/** Rewrites bus number and device address of every event (the sim's are its own). */
export class Relocate implements UrbSink {
  constructor(
    readonly target: UrbSink,
    readonly busNumber: number,
    readonly deviceAddress: number,
  ) {}
  record(e: UrbEvent): void {
    this.target.record({ ...e, busNumber: this.busNumber, deviceAddress: this.deviceAddress });
  }
}

/**
 * Passes events on only while open, so a capture holds the URBs of one contract case and not the
 * enumeration before it (a replay client does not enumerate: umockdev plays the device already configured).
 */
export class UrbGate implements UrbSink {
  open = false;
  constructor(readonly target: UrbSink) {}
  record(e: UrbEvent): void {
    if (this.open) this.target.record(e);
  }
}

/**
 * Reshapes a bulk OUT URB that carries URB_ZERO_PACKET and a non-zero multiple of `maxPacketSize` bytes
 * into the two URBs NodeUsbHost submits for `bulkOut(…, { zeroLengthPacket: true })`: the payload without
 * the flag, then a zero-length URB queued right behind it (both submitted before either completes).
 * The packets on the bus are the same (payload packets, then a ZLP); only the URB framing differs.
 *
 * ASSUMPTION (docs/host-side.md "ZLP on bulk OUT"): node-usb exposes no LIBUSB_TRANSFER_ADD_ZERO_PACKET,
 * so NodeUsbHost queues a second, zero-length transfer; the kernel would record it as its own S/C pair.
 */
export class SplitZeroPacketUrbs implements UrbSink {
  /** Tags of URBs that were split, so their completion gets a companion too. */
  readonly #split = new Set<number>();

  constructor(
    readonly target: UrbSink,
    readonly maxPacketSize: number,
  ) {}

  record(e: UrbEvent): void {
    if (e.kind === 'S' && this.#splits(e)) {
      this.#split.add(e.urbId);
      this.target.record({ ...e, transferFlags: e.transferFlags & ~URB_ZERO_PACKET });
      this.target.record({ ...e, urbId: e.urbId + ZLP_TAG_OFFSET, length: 0, data: undefined, transferFlags: e.transferFlags & ~URB_ZERO_PACKET });
      return;
    }
    if (e.kind !== 'S' && this.#split.delete(e.urbId)) {
      const flags = e.transferFlags & ~URB_ZERO_PACKET;
      this.target.record({ ...e, transferFlags: flags });
      // The trailer completes right after the payload, with the payload's status (it follows it on the pipe).
      this.target.record({ ...e, urbId: e.urbId + ZLP_TAG_OFFSET, length: 0, data: undefined, transferFlags: flags });
      return;
    }
    this.target.record(e);
  }

  #splits(e: UrbEvent): boolean {
    return (
      e.transferType === 'bulk' &&
      (e.endpoint & 0x80) === 0 &&
      (e.transferFlags & URB_ZERO_PACKET) !== 0 &&
      e.length > 0 &&
      e.length % this.maxPacketSize === 0
    );
  }
}
