/**
 * The packet engine: the 30 non-control endpoint pipes and the packet rules that move data between a
 * pipe's host URBs and its device transfers (USB 2.0 §5.8 bulk, §8.4.4 babble). When a host URB and a
 * device transfer meet, the largest run of whole packets both can take is copied at once; the packet
 * count only advances the time line and the data toggle.
 *
 * @see USB 2.0 §5.8 (bulk), §8.5.3.2 (short packets and ZLPs), §9.4.5 (halt and toggle)
 * @see docs/reference/documented-vs-inferred.md#link-documented (*UFX page*: purge, stall and ZLP rules)
 */
import { SimulatorError, endpointIndex } from '../../../core/index.js';
import {
  TRANSFER_STATE,
  URB_STATE,
  type LinkDeviceTransfer,
  type LinkUrb,
  type TransferQueue,
  type UfxAbortReason,
  type UrbOutcome,
} from '../link-contract.js';
import type { BusState } from './bus-state.js';
import type { CompletionTimeline } from './completion-timeline.js';
import { Fifo } from './fifo.js';
import { BURST_STAGE, Burst, InFlight, lastOnTheBus } from './in-flight.js';

/** `n` bytes of `b` from `at`: `b` itself when that is all of it (a 1 MiB transfer needs no view object). */
function bytesAt(b: Uint8Array, at: number, n: number): Uint8Array {
  return at === 0 && n === b.length ? b : b.subarray(at, at + n);
}

/** A snapshot of one endpoint for scenarios and tests. */
export interface EndpointState {
  readonly address: number;
  /** Configured on the device side (part of the active configuration / alternate setting). */
  readonly active: boolean;
  readonly halted: boolean;
  /** Next data PID: 0 = DATA0, 1 = DATA1 (host and device agree in the model). */
  readonly toggle: 0 | 1;
  readonly maxPacketSize: number;
  /** Host URBs waiting on the endpoint. */
  readonly queuedHost: number;
  /** Device transfers waiting on the endpoint. */
  readonly queuedDevice: number;
}

/** Endpoint configuration given by the function controller at SET_CONFIGURATION / SET_INTERFACE. */
export interface PipeConfig {
  readonly type: 'bulk' | 'interrupt' | 'isochronous';
  readonly maxPacketSize: number;
  readonly bInterval?: number | undefined;
}

class EndpointPipe implements TransferQueue {
  readonly engine: PacketEngine;
  readonly address: number;
  readonly isIn: boolean;
  active = false;
  type: PipeConfig['type'] = 'bulk';
  maxPacketSize = 0;
  interval = 0;
  /** Bus units per packet at the current speed. */
  slot = 0;
  halted = false;
  toggle: 0 | 1 = 0;
  readonly host = new Fifo<LinkUrb>();
  readonly device = new Fifo<LinkDeviceTransfer>();
  /** Runs of packets still on the wire (in-flight.ts). */
  readonly inFlight = new InFlight();
  constructor(engine: PacketEngine, address: number) {
    this.engine = engine;
    this.address = address;
    this.isIn = (address & 0x80) !== 0;
  }

  cancel(transfer: LinkDeviceTransfer): boolean {
    return this.engine.cancelTransfer(this, transfer);
  }
}

export class PacketEngine {
  readonly #state: BusState;
  readonly #timeline: CompletionTimeline;
  /** By endpointIndex: OUT 0x00–0x0F, then IN 0x80–0x8F (EP0's slots stay unused: control-pipe.ts). */
  readonly #pipes: EndpointPipe[] = [];

  constructor(state: BusState, timeline: CompletionTimeline) {
    this.#state = state;
    this.#timeline = timeline;
    for (let i = 0; i < 32; i++) this.#pipes.push(new EndpointPipe(this, (i & 0x0f) | ((i & 0x10) << 3)));
  }

  // ------------------------------------------------------------------------------------------
  // Host end

  /** Queues a submitted bulk/interrupt URB on its endpoint; it moves as soon as the device has a transfer. */
  submit(urb: LinkUrb): void {
    const pipe = this.#pipes[endpointIndex(urb.endpoint)]!;
    pipe.host.push(urb);
    this.#match(pipe);
  }

  /**
   * Unlinks a URB (libusb_cancel_transfer, or its timeout) and completes it with `outcome`: waiting, it leaves
   * its queue; with packets on the wire, they stop at the current bus time and the URB keeps the bytes that
   * had crossed, while the device transfers it was paired with wait for the next URB with theirs. Returns
   * false when its outcome can no longer change (its bus time has elapsed).
   * ASSUMPTION(link-cancel-in-progress): libusb reports the partial actual_length of a cancelled transfer; the
   * device keeps the packets it had ACKed.
   */
  cancelUrb(urb: LinkUrb, outcome: 'timeout' | 'cancelled'): boolean {
    const p = this.#pipes[endpointIndex(urb.endpoint)]!;
    const now = this.#timeline.nowUnits();
    const index = p.inFlight.firstLive(urb, now);
    if (index >= 0) this.#stopOnTheWire(p, index, now);
    else if (urb.state !== URB_STATE.QUEUED) return false;
    p.host.remove(urb);
    this.#timeline.completeNow(urb, outcome);
    if (index >= 0) this.#match(p);
    return true;
  }

  /**
   * {@link TransferQueue.cancel} for a device transfer queued on `p`.
   * ASSUMPTION(link-stop-in-flight): the controller stops the endpoint; the host's URB keeps what crossed and
   * waits (NAK) for a transfer that may never come, so it ends by its timeout.
   */
  cancelTransfer(p: EndpointPipe, t: LinkDeviceTransfer): boolean {
    const now = this.#timeline.nowUnits();
    const index = p.inFlight.firstLive(t, now);
    if (index >= 0) this.#stopOnTheWire(p, index, now);
    else if (t.state !== TRANSFER_STATE.QUEUED) return false;
    p.device.remove(t);
    t.fail('cancelled');
    if (index >= 0) this.#match(p);
    return true;
  }

  /**
   * Stops the packets of `p` on the wire at `now` from run `index` on (in-flight.ts): the URBs and transfers
   * of those runs keep what had crossed, go back to the front of their queues (in order) and wait; the
   * toggle is that of the last packet sent; the bus time no one will use is given back when nothing was
   * reserved after it.
   */
  #stopOnTheWire(p: EndpointPipe, index: number, now: number): void {
    const { bursts, packetsDone } = p.inFlight.cutFrom(index, now);
    const first = bursts[0];
    if (first === undefined) return;
    p.toggle = ((first.toggleBefore ^ packetsDone) & 1) as 0 | 1;
    if (lastOnTheBus(bursts, this.#timeline.busyUntil)) this.#timeline.release(first.start + packetsDone * first.slot);
    const urbs: LinkUrb[] = [];
    const reqs: LinkDeviceTransfer[] = [];
    for (const b of bursts) {
      const urb = b.urb!;
      if (urb.state === URB_STATE.COMMITTED && !urbs.includes(urb)) {
        urb.state = URB_STATE.QUEUED;
        urb.outcome = 'ok';
        urbs.push(urb);
      }
      const t = b.transfer!;
      if (t.state === TRANSFER_STATE.COMMITTED && !reqs.includes(t)) {
        t.state = TRANSFER_STATE.QUEUED;
        reqs.push(t);
      }
    }
    p.host.unshiftAll(urbs);
    p.device.unshiftAll(reqs);
  }

  /** Detach or reset at `now`: every URB and transfer with packets on the wire keeps only what had crossed. */
  cutInFlight(now: number): void {
    for (const p of this.#pipes) p.inFlight.cutAll(now);
  }

  /** bInterval of an endpoint (for the capture). */
  interval(endpoint: number): number {
    return this.#pipes[endpointIndex(endpoint)]!.interval;
  }

  // ------------------------------------------------------------------------------------------
  // Device end

  /** Makes an endpoint part of the active configuration (DATA0, not halted) at the current speed. */
  configure(address: number, config: PipeConfig): void {
    const p = this.#pipe(address);
    p.active = true;
    p.type = config.type;
    p.maxPacketSize = config.maxPacketSize;
    p.interval = config.bInterval ?? 0;
    p.slot = this.#state.slots.bulk;
    p.halted = false;
    p.toggle = 0;
    this.#match(p);
  }

  /**
   * Removes an endpoint from the configuration; its device transfers end with UfxAbort `reason` (with the
   * bytes that had crossed, when their packets were on the wire; the host's URBs keep theirs and wait).
   */
  deconfigure(address: number, reason: UfxAbortReason): void {
    const p = this.#pipe(address);
    const now = this.#timeline.nowUnits();
    if (p.inFlight.busy(now)) this.#stopOnTheWire(p, 0, now);
    for (const t of p.device.drain()) t.fail(reason, 'endpoint deconfigured');
    p.active = false;
    p.halted = false;
    p.toggle = 0;
  }

  /** Ends every device transfer queued on `address` with UfxAbort 'purged'. */
  purge(address: number): void {
    const p = this.#pipe(address);
    const now = this.#timeline.nowUnits();
    if (p.inFlight.busy(now)) this.#stopOnTheWire(p, 0, now);
    for (const t of p.device.drain()) t.fail('purged');
  }

  /** Queues a device transfer; it moves as soon as the host asks (or already waits). */
  queue(address: number, transfer: LinkDeviceTransfer): void {
    const p = this.#pipe(address);
    transfer.queue = p;
    p.device.push(transfer);
    this.#match(p);
  }

  /** Halts or un-halts an endpoint; un-halting resets its toggle to DATA0. */
  setHalt(address: number, halted: boolean): void {
    const p = this.#pipe(address);
    p.halted = halted;
    if (!halted) p.toggle = 0;
    this.#match(p);
  }

  resetToggle(address: number): void {
    this.#pipe(address).toggle = 0;
  }

  isHalted(address: number): boolean {
    return this.#pipe(address).halted;
  }

  endpointState(address: number): EndpointState {
    const p = this.#pipe(address);
    return {
      address: p.address,
      active: p.active,
      halted: p.halted,
      toggle: p.toggle,
      maxPacketSize: p.maxPacketSize,
      queuedHost: p.host.size,
      queuedDevice: p.device.size,
    };
  }

  // ------------------------------------------------------------------------------------------
  // Link events

  /** Resume: every active pipe moves again. */
  matchAll(): void {
    for (const p of this.#pipes) if (p.active) this.#match(p);
  }

  /** Detach or reset: host URBs end with `outcome`, device transfers are purged, every pipe is deconfigured. */
  teardown(outcome: UrbOutcome): void {
    for (const p of this.#pipes) {
      for (const urb of p.host.drain()) this.#timeline.completeNow(urb, outcome);
      for (const t of p.device.drain()) t.fail('purged', outcome === 'reset' ? 'bus reset' : 'detach');
      p.active = false;
      p.halted = false;
      p.toggle = 0;
    }
  }

  #pipe(address: number): EndpointPipe {
    if ((address & 0x0f) === 0 || (address & 0x70) !== 0) {
      throw new SimulatorError('SIM_BAD_ENDPOINT', `0x${address.toString(16)} is not a non-control endpoint address (0x01–0x0F, 0x81–0x8F)`);
    }
    return this.#pipes[endpointIndex(address)]!;
  }

  // ------------------------------------------------------------------------------------------
  // Packet rules

  #match(p: EndpointPipe): void {
    if (!p.active || !this.#state.connected || this.#state.suspended) return;
    if (p.halted) {
      // A halted endpoint answers every token with STALL (one slot each); device transfers are held.
      for (let urb = p.host.shift(); urb !== undefined; urb = p.host.shift()) {
        this.#timeline.commitHost(urb, 'stall', this.#timeline.reserve(p.slot));
      }
      return;
    }
    if (p.host.size === 0 || p.device.size === 0) return;
    if (p.isIn) this.#matchIn(p);
    else this.#matchOut(p);
  }

  /**
   * Ends `packets` packets between `urb` and `req` on `p`: advances the toggle and the time line, and
   * records the run as in flight (where both stood before it); returns the end time. The ZLP flags before the
   * run are recovered from the run itself: only its last packet can be a ZLP.
   */
  #spend(p: EndpointPipe, packets: number, urb: LinkUrb, req: LinkDeviceTransfer, urbBefore: number, reqBefore: number, overflow = false): number {
    const toggleBefore = p.toggle;
    if (packets & 1) p.toggle = p.toggle === 0 ? 1 : 0;
    const timeline = this.#timeline;
    const units = packets * p.slot;
    const end = timeline.reserve(units);
    p.inFlight.add(
      new Burst(urb, req, BURST_STAGE.BULK, end - units, end, packets, p.slot, p.maxPacketSize, urb.actual - urbBefore, req.offset - reqBefore, urbBefore, reqBefore, false, false, toggleBefore, overflow),
      timeline.nowUnits(),
    );
    return end;
  }

  /** Device → host. Host URBs end on a short packet, a ZLP, or when full (USB 2.0 §5.8.3). */
  #matchIn(p: EndpointPipe): void {
    const timeline = this.#timeline;
    const mps = p.maxPacketSize;
    for (;;) {
      const urb = p.host.peek();
      const req = p.device.peek();
      if (urb === undefined || req === undefined) return;
      const urbBefore = urb.actual;
      const reqBefore = req.offset;
      let hostRem = urb.length - urb.actual;
      let devRem = req.length - req.offset;
      let packets = 0;
      if (devRem >= mps && hostRem >= mps) {
        const k = Math.min(Math.floor(devRem / mps), Math.floor(hostRem / mps));
        const n = k * mps;
        urb.buffer.set(bytesAt(req.data, req.offset, n), urb.actual);
        urb.actual += n;
        req.offset += n;
        hostRem -= n;
        devRem -= n;
        packets = k;
      }
      if (hostRem === 0) {
        const at = this.#spend(p, packets, urb, req, urbBefore, reqBefore);
        p.host.shift();
        timeline.commitHost(urb, 'ok', at);
        if (devRem === 0 && !req.needsZlp(mps)) {
          p.device.shift();
          timeline.commitDevice(req, at);
        }
        continue;
      }
      if (devRem === 0) {
        if (req.needsZlp(mps)) {
          // The zero-length packet ends the host URB short.
          req.zlpDone = true;
          const at = this.#spend(p, packets + 1, urb, req, urbBefore, reqBefore);
          p.host.shift();
          p.device.shift();
          timeline.commitHost(urb, 'ok', at);
          timeline.commitDevice(req, at);
        } else {
          // The device transfer ended on a whole packet: the host URB waits for more.
          const at = this.#spend(p, packets, urb, req, urbBefore, reqBefore);
          p.device.shift();
          timeline.commitDevice(req, at);
        }
        continue;
      }
      // One more packet: a short one (devRem < mps), or a full one that does not fit (hostRem < mps).
      const pkt = devRem < mps ? devRem : mps;
      if (pkt <= hostRem) {
        urb.buffer.set(bytesAt(req.data, req.offset, pkt), urb.actual);
        urb.actual += pkt;
        req.offset += pkt;
        const at = this.#spend(p, packets + 1, urb, req, urbBefore, reqBefore);
        p.host.shift();
        p.device.shift();
        timeline.commitHost(urb, 'ok', at);
        timeline.commitDevice(req, at);
        continue;
      }
      // Babble: the packet is larger than the space left in the URB (USB 2.0 §8.4.4 / -EOVERFLOW).
      // ASSUMPTION(link-babble): the device controller got its ACK, so the whole packet
      // counts as sent; its transfer goes on with the next packet for the next URB. The host keeps
      // the bytes that fit.
      urb.buffer.set(bytesAt(req.data, req.offset, hostRem), urb.actual);
      urb.actual += hostRem;
      req.offset += pkt;
      const at = this.#spend(p, packets + 1, urb, req, urbBefore, reqBefore);
      p.host.shift();
      timeline.commitHost(urb, 'babble', at);
      if (req.offset === req.length && !req.needsZlp(mps)) {
        p.device.shift();
        timeline.commitDevice(req, at);
      }
    }
  }

  /** Host → device. Device buffers end on a short packet, a ZLP, or when full. */
  #matchOut(p: EndpointPipe): void {
    const timeline = this.#timeline;
    const mps = p.maxPacketSize;
    for (;;) {
      const urb = p.host.peek();
      const req = p.device.peek();
      if (urb === undefined || req === undefined) return;
      const urbBefore = urb.actual;
      const reqBefore = req.offset;
      let hostRem = urb.length - urb.actual;
      let devRem = req.length - req.offset;
      let packets = 0;
      if (hostRem >= mps && devRem >= mps) {
        const k = Math.min(Math.floor(hostRem / mps), Math.floor(devRem / mps));
        const n = k * mps;
        req.data.set(bytesAt(urb.buffer, urb.actual, n), req.offset);
        urb.actual += n;
        req.offset += n;
        hostRem -= n;
        devRem -= n;
        packets = k;
      }
      if (hostRem === 0 && !urb.needsZlp(mps)) {
        const at = this.#spend(p, packets, urb, req, urbBefore, reqBefore);
        p.host.shift();
        timeline.commitHost(urb, 'ok', at);
        if (devRem === 0) {
          p.device.shift();
          timeline.commitDevice(req, at);
        }
        continue;
      }
      if (devRem === 0) {
        // Buffer full: the transfer completes; the host's next packet goes to the next buffer.
        const at = this.#spend(p, packets, urb, req, urbBefore, reqBefore);
        p.device.shift();
        timeline.commitDevice(req, at);
        continue;
      }
      if (hostRem === 0) {
        // Zero-length packet (URB_ZERO_PACKET on an exact multiple, or a 0-byte URB).
        urb.zlpDone = true;
        const at = this.#spend(p, packets + 1, urb, req, urbBefore, reqBefore);
        p.host.shift();
        p.device.shift();
        timeline.commitHost(urb, 'ok', at);
        timeline.commitDevice(req, at);
        continue;
      }
      const pkt = hostRem < mps ? hostRem : mps;
      if (pkt <= devRem) {
        // A short packet ends the device transfer; it is the URB's last packet.
        req.data.set(bytesAt(urb.buffer, urb.actual, pkt), req.offset);
        urb.actual += pkt;
        req.offset += pkt;
        const at = this.#spend(p, packets + 1, urb, req, urbBefore, reqBefore);
        p.host.shift();
        p.device.shift();
        timeline.commitHost(urb, 'ok', at);
        timeline.commitDevice(req, at);
        continue;
      }
      // ASSUMPTION(link-out-overflow): a host sending more than the buffer holds is undefined; the controller
      // ACKs the packet, stores what fits and ends the transfer with UfxAbort 'overflow'
      // (STATUS_BUFFER_OVERFLOW); the rest of that packet is lost and the host URB goes on.
      req.data.set(bytesAt(urb.buffer, urb.actual, devRem), req.offset);
      req.offset += devRem;
      urb.actual += pkt;
      req.abortReason = 'overflow';
      req.abortDetail = `a ${pkt}-byte packet arrived with ${devRem} bytes left in the buffer`;
      const at = this.#spend(p, packets + 1, urb, req, urbBefore, reqBefore, true);
      p.device.shift();
      timeline.commitDevice(req, at);
      if (urb.actual === urb.length && !urb.needsZlp(mps)) {
        p.host.shift();
        timeline.commitHost(urb, 'ok', at);
      }
    }
  }
}
