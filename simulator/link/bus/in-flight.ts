/**
 * The data a pipe has on the wire: one {@link Burst} per reservation of bus time that moved packets between
 * one host URB and one device transfer (or a control stage). The packet rules copy a matched run of packets
 * at once and commit its completion for the end of its bus time; a burst remembers where each side stood
 * before the run, so that a fault landing inside that bus time (unplug, port reset, CancelIoEx, handle close,
 * a libusb cancel or timeout) can say exactly how many whole packets had crossed by then: the rest never
 * moved (docs/simulator-link.md#interrupting-data-in-flight).
 * ASSUMPTION(link-stop-in-flight): data crosses in whole packets at the end of their slots; the packet on the
 * wire when the fault lands does not count; bytes past the count reported are unspecified in the buffers.
 */
import type { LinkDeviceTransfer, LinkUrb } from '../link-contract.js';

/** Which part of a control transfer a burst carried (control pipe only). */
export const BURST_STAGE = { BULK: 0, DATA: 1, STATUS: 2, REPLY: 3 } as const;
export type BurstStage = (typeof BURST_STAGE)[keyof typeof BURST_STAGE];

/**
 * One run of packets on one pipe: `packets` slots of `slot` bus units ending at `end`, whole packets of
 * `maxPacket` first. Positional fields (no init object): one is made per matched run on the hot path.
 */
export class Burst {
  constructor(
    readonly urb: LinkUrb | undefined,
    readonly transfer: LinkDeviceTransfer | undefined,
    readonly stage: BurstStage,
    readonly start: number,
    readonly end: number,
    readonly packets: number,
    readonly slot: number,
    readonly maxPacket: number,
    /** Bytes the run added to the URB (`actual`) and to the transfer (`offset`); they differ for babble/overflow. */
    readonly urbBytes: number,
    readonly transferBytes: number,
    readonly urbBefore: number,
    readonly transferBefore: number,
    readonly urbZlpBefore: boolean,
    readonly transferZlpBefore: boolean,
    /** Data toggle of the pipe before the run (bulk pipes). */
    readonly toggleBefore: 0 | 1,
    /** The run's last packet overflowed the device buffer (the transfer's abortReason was set by it). */
    readonly overflow: boolean,
  ) {}

  /** Whole packets of this run that had crossed the bus by bus time `now`. */
  packetsAt(now: number): number {
    if (now >= this.end) return this.packets;
    if (now <= this.start || this.slot === 0) return 0;
    return Math.min(this.packets, Math.floor((now - this.start) / this.slot));
  }

  involves(x: LinkUrb | LinkDeviceTransfer): boolean {
    return this.urb === x || this.transfer === x;
  }
}

/** How far the objects of a cut set of bursts got. */
export interface CutResult {
  /** The bursts cut, oldest first (the first may be partly done, the others are not started). */
  readonly bursts: readonly Burst[];
  /** Whole packets of the first burst done by the cut. */
  readonly packetsDone: number;
}

/**
 * The bursts of one pipe still on the wire, oldest first (the pipe is serial, so they follow each other in
 * bus time). Bursts whose bus time has elapsed are dropped as new ones arrive.
 */
export class InFlight {
  /** Runs from #head (oldest) to #tail; slots past #tail are free (kept: truncating an array is a runtime call). */
  #bursts: (Burst | undefined)[] = [];
  #head = 0;
  #tail = 0;

  /** Records a run; forgets the runs that ended by `now`. */
  add(burst: Burst, now: number): void {
    this.prune(now);
    if (this.#tail < this.#bursts.length) this.#bursts[this.#tail] = burst;
    else this.#bursts.push(burst);
    this.#tail++;
  }

  /** Drops the runs whose bus time ended by `now`. */
  prune(now: number): void {
    const b = this.#bursts;
    let h = this.#head;
    const tail = this.#tail;
    while (h < tail && b[h]!.end <= now) b[h++] = undefined;
    if (h === tail) {
      h = 0;
      this.#tail = 0;
    } else if (h > 64) {
      this.#bursts = b.slice(h, tail);
      this.#tail = tail - h;
      h = 0;
    }
    this.#head = h;
  }

  /** Index of the first run still on the wire at `now` that moved data of `x`, or -1. */
  firstLive(x: LinkUrb | LinkDeviceTransfer, now: number): number {
    this.prune(now);
    const b = this.#bursts;
    for (let i = this.#head; i < this.#tail; i++) if (b[i]!.involves(x)) return i;
    return -1;
  }

  /** The stage of run `index` (after {@link firstLive}). */
  stageAt(index: number): BurstStage {
    return this.#bursts[index]?.stage ?? BURST_STAGE.BULK;
  }

  /** True when some run is still on the wire at `now`. */
  busy(now: number): boolean {
    this.prune(now);
    return this.#tail > this.#head;
  }

  /**
   * Stops the wire at `now` from run `index` on (an index from {@link firstLive}, or {@link busy}'s first):
   * every URB and transfer in those runs is set back to where it stood when the last whole packet before
   * `now` had crossed (`actual`, `offset`, their ZLP flags and an overflow the run caused). States are left to
   * the caller. The runs are forgotten.
   */
  cutFrom(index: number, now: number): CutResult {
    const from = index < this.#head ? this.#head : index;
    const bursts = this.#bursts.slice(from, this.#tail) as Burst[];
    if (from < this.#tail) {
      this.#bursts.fill(undefined, from, this.#tail);
      this.#tail = from;
    }
    const first = bursts[0];
    if (first === undefined) return { bursts, packetsDone: 0 };
    const packetsDone = first.packetsAt(now);
    const seen = new Set<LinkUrb | LinkDeviceTransfer>();
    for (const b of bursts) {
      const done = b === first ? packetsDone : 0;
      const complete = done === b.packets;
      const moved = done * b.maxPacket;
      const urb = b.urb;
      if (urb !== undefined && !seen.has(urb)) {
        seen.add(urb);
        urb.actual = b.urbBefore + Math.min(b.urbBytes, moved);
        if (!complete) urb.zlpDone = b.urbZlpBefore;
      }
      const t = b.transfer;
      if (t !== undefined && !seen.has(t)) {
        seen.add(t);
        t.offset = b.transferBefore + Math.min(b.transferBytes, moved);
        if (!complete) {
          t.zlpDone = b.transferZlpBefore;
          if (b.overflow) {
            t.abortReason = undefined;
            t.abortDetail = undefined;
          }
        }
      }
    }
    return { bursts, packetsDone };
  }

  /** {@link cutFrom} for every run still on the wire (detach, reset). */
  cutAll(now: number): CutResult {
    this.prune(now);
    return this.cutFrom(this.#head, now);
  }
}

/** True when `bursts` follow each other with no gap and the last ends at `busyUntil`: nothing else was reserved after the first. */
export function lastOnTheBus(bursts: readonly Burst[], busyUntil: number): boolean {
  for (let i = 1; i < bursts.length; i++) if (bursts[i]!.start !== bursts[i - 1]!.end) return false;
  return bursts.length > 0 && bursts[bursts.length - 1]!.end === busyUntil;
}
