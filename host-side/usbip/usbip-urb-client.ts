/**
 * `UsbIpUrbClient`: the client's URB phase on an imported connection, in the role of vhci-hcd. URBs are
 * pipelined (any number in flight, matched by seqnum); a URB whose timeout expires or whose signal aborts
 * is unlinked with `USBIP_CMD_UNLINK` and ends when the server answers:
 *
 * - `USBIP_RET_UNLINK` first: the URB was unlinked (`unlinked`, with why: timeout or abort);
 * - `USBIP_RET_SUBMIT` first: it completed before the unlink took effect, and that result stands (as in
 *   libusb, where a completion that wins the race with a cancel is reported as completed).
 *
 * A reply that breaks the protocol, an unanswered unlink (after `unlinkTimeoutMs`) or the connection
 * closing ends every URB in flight with `lost` and every later submit at once.
 */
import { hex, type Clock, type ClockTimer } from '../../core/index.js';
import type { UsbIpClientSocket } from './usbip-client-socket.js';
import type { UsbIpDeviceRecord } from './usbip-op-codec.js';
import { USBIP_BYTES, USBIP_COMMAND, USBIP_DIR } from './usbip-protocol.js';
import { decodeUrbHeader, encodeCmdSubmit, encodeCmdUnlink, type UsbIpUrbHeader } from './usbip-urb-codec.js';

/** How a URB ended on the client. */
export type UsbIpUrbEnd =
  | { readonly kind: 'ret'; readonly status: number; readonly actualLength: number; readonly data: Uint8Array }
  | { readonly kind: 'unlinked'; readonly why: 'timeout' | 'abort' }
  | { readonly kind: 'lost'; readonly reason: string };

/** One URB to submit. */
export interface UsbIpUrbRequest {
  /** Endpoint number 0–15. */
  readonly ep: number;
  readonly dirIn: boolean;
  readonly transferFlags: number;
  /** EP0: the 8 SETUP bytes. */
  readonly setup?: Uint8Array | undefined;
  /** transfer_buffer_length. */
  readonly length: number;
  /** OUT: the `length` bytes to send. */
  readonly data?: Uint8Array | undefined;
  /** IN: receive into this buffer (at least `length` bytes) instead of a fresh one. */
  readonly receiveInto?: Uint8Array | undefined;
}

/** A header that crossed the wire, for tests and diagnostics. */
export interface UsbIpTraceEvent {
  readonly direction: 'sent' | 'received';
  readonly header: UsbIpUrbHeader;
  /** Payload bytes after the header. */
  readonly dataLength: number;
  /** The payload itself (a view, valid during the call: copy what you keep), for a capture of the session. */
  readonly data?: Uint8Array | undefined;
}

export interface UsbIpUrbClientOptions {
  readonly clock: Clock;
  /** How long the server may take to answer a CMD_UNLINK before the connection counts as dead. */
  readonly unlinkTimeoutMs: number;
  readonly trace?: ((event: UsbIpTraceEvent) => void) | undefined;
}

interface PendingUrb {
  readonly seqnum: number;
  readonly dirIn: boolean;
  readonly length: number;
  readonly receiveInto: Uint8Array | undefined;
  readonly resolve: (end: UsbIpUrbEnd) => void;
  timer: ClockTimer | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Set once a CMD_UNLINK went out for it. */
  why: 'timeout' | 'abort' | undefined;
  unlinkSeqnum: number | undefined;
  unlinkTimer: ClockTimer | undefined;
}

const SETUP_NONE = new Uint8Array(8);
const EMPTY: Uint8Array = new Uint8Array(0);

export class UsbIpUrbClient {
  readonly device: UsbIpDeviceRecord;
  /** `(busnum << 16) | devnum` of the imported device. */
  readonly devid: number;
  readonly #sock: UsbIpClientSocket;
  readonly #o: UsbIpUrbClientOptions;
  readonly #pending = new Map<number, PendingUrb>();
  /** By the CMD_UNLINK's own seqnum. */
  readonly #unlinks = new Map<number, PendingUrb>();
  #seqnum = 0;
  /** The header being assembled across chunks, and how much of it arrived. */
  readonly #headerBytes = new Uint8Array(USBIP_BYTES.HEADER);
  #headerFill = 0;
  /** A RET_SUBMIT whose IN data is arriving: where it goes and how much came. */
  #reply: { readonly header: UsbIpUrbHeader; readonly urb: PendingUrb; readonly data: Uint8Array; filled: number } | undefined;
  #lost: string | undefined;

  constructor(socket: UsbIpClientSocket, device: UsbIpDeviceRecord, options: UsbIpUrbClientOptions) {
    this.#sock = socket;
    this.device = device;
    this.devid = ((device.busnum << 16) | (device.devnum & 0xffff)) >>> 0;
    this.#o = options;
    socket.onClose = (reason) => this.#lose(reason);
    if (socket.endedReason !== undefined) this.#lose(socket.endedReason);
    else socket.onChunk = (chunk) => this.#parse(chunk);
  }

  /** Why the connection is gone, or undefined while it works. */
  get lostReason(): string | undefined {
    return this.#lost;
  }

  /** URBs in flight. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Submits a URB; `done` never rejects.
   * @param options.timeoutMs 0 = no timeout.
   */
  submit(req: UsbIpUrbRequest, options: { timeoutMs: number; signal?: AbortSignal | undefined }): { seqnum: number; done: Promise<UsbIpUrbEnd> } {
    const seqnum = this.#nextSeqnum();
    if (this.#lost !== undefined) return { seqnum, done: Promise.resolve({ kind: 'lost', reason: this.#lost }) };
    if (options.signal?.aborted) return { seqnum, done: Promise.resolve({ kind: 'unlinked', why: 'abort' }) };
    let resolve!: (end: UsbIpUrbEnd) => void;
    const done = new Promise<UsbIpUrbEnd>((r) => (resolve = r));
    const p: PendingUrb = {
      seqnum,
      dirIn: req.dirIn,
      length: req.length,
      receiveInto: req.receiveInto,
      resolve,
      timer: undefined,
      signal: options.signal,
      onAbort: undefined,
      why: undefined,
      unlinkSeqnum: undefined,
      unlinkTimer: undefined,
    };
    this.#pending.set(seqnum, p);
    const header = encodeCmdSubmit({
      seqnum,
      devid: this.devid,
      direction: req.dirIn ? USBIP_DIR.USBIP_DIR_IN : USBIP_DIR.USBIP_DIR_OUT,
      ep: req.ep,
      transferFlags: req.transferFlags,
      transferBufferLength: req.length,
      startFrame: 0,
      numberOfPackets: 0,
      interval: 0,
      setup: req.setup ?? SETUP_NONE,
    });
    const data = !req.dirIn && req.data !== undefined && req.data.length > 0 ? req.data : undefined;
    this.#trace('sent', header, data?.length ?? 0, data);
    this.#sock.write(data === undefined ? [header] : [header, data]);
    if (options.timeoutMs > 0) p.timer = this.#o.clock.setTimer(options.timeoutMs, () => this.#unlink(p, 'timeout'));
    if (options.signal !== undefined) {
      p.onAbort = () => this.#unlink(p, 'abort');
      options.signal.addEventListener('abort', p.onAbort, { once: true });
    }
    return { seqnum, done };
  }

  /** Unlinks a URB in flight (libusb_cancel_transfer); it ends `unlinked: abort` unless it completes first. */
  cancel(seqnum: number): void {
    const p = this.#pending.get(seqnum);
    if (p !== undefined) this.#unlink(p, 'abort');
  }

  /** Closes the connection: URBs in flight end `unlinked` (cancelled). Idempotent. */
  close(reason = 'closed by the client'): void {
    if (this.#lost !== undefined) return;
    this.#lost = reason;
    for (const p of [...this.#pending.values()]) this.#finish(p, { kind: 'unlinked', why: p.why ?? 'abort' });
    this.#sock.socket.end();
    // The server closes its side when it sees ours; do not wait for it longer than a moment.
    setTimeout(() => this.#sock.destroy(), 500).unref();
  }

  // ---------------------------------------------------------------------------------------------

  #nextSeqnum(): number {
    this.#seqnum = this.#seqnum >= 0xffffffff ? 1 : this.#seqnum + 1;
    return this.#seqnum;
  }

  #unlink(p: PendingUrb, why: 'timeout' | 'abort'): void {
    if (p.why !== undefined || this.#lost !== undefined || !this.#pending.has(p.seqnum)) return;
    p.why = why;
    p.timer?.cancel();
    p.timer = undefined;
    const seqnum = this.#nextSeqnum();
    p.unlinkSeqnum = seqnum;
    this.#unlinks.set(seqnum, p);
    // usbip_header_basic of an unlink: direction and ep are 0.
    const header = encodeCmdUnlink({ seqnum, devid: this.devid, direction: 0, ep: 0, unlinkSeqnum: p.seqnum });
    this.#trace('sent', header, 0);
    this.#sock.write([header]);
    const ms = this.#o.unlinkTimeoutMs;
    p.unlinkTimer = this.#o.clock.setTimer(ms, () => this.#lose(`the server did not answer CMD_UNLINK of seqnum ${p.seqnum} within ${ms} ms`));
  }

  #finish(p: PendingUrb, end: UsbIpUrbEnd): void {
    if (!this.#pending.delete(p.seqnum)) return;
    p.timer?.cancel();
    p.unlinkTimer?.cancel();
    if (p.unlinkSeqnum !== undefined) this.#unlinks.delete(p.unlinkSeqnum);
    if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort);
    p.resolve(end);
  }

  /**
   * Parses one chunk (valid only during this call): headers are assembled in a 48-byte buffer, IN data is
   * copied straight to where it goes (the caller's receive buffer, or a fresh one of actual_length).
   */
  #parse(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && this.#lost === undefined) {
      const reply = this.#reply;
      if (reply !== undefined) {
        const n = Math.min(reply.data.length - reply.filled, chunk.length - at);
        reply.data.set(chunk.subarray(at, at + n), reply.filled);
        reply.filled += n;
        at += n;
        if (reply.filled === reply.data.length) {
          this.#reply = undefined;
          this.#delivered(reply.header, reply.urb, reply.data);
        }
        continue;
      }
      const n = Math.min(USBIP_BYTES.HEADER - this.#headerFill, chunk.length - at);
      this.#headerBytes.set(chunk.subarray(at, at + n), this.#headerFill);
      this.#headerFill += n;
      at += n;
      if (this.#headerFill < USBIP_BYTES.HEADER) return;
      this.#headerFill = 0;
      let h: UsbIpUrbHeader;
      try {
        h = decodeUrbHeader(this.#headerBytes);
      } catch (err) {
        return this.#protocolError(err instanceof Error ? err.message : String(err));
      }
      this.#header(h);
    }
  }

  /** A complete header: finish its URB, or start receiving its IN data. */
  #header(h: UsbIpUrbHeader): void {
    if (h.command === USBIP_COMMAND.USBIP_RET_SUBMIT) {
      const p = this.#pending.get(h.seqnum);
      if (p === undefined) return this.#protocolError(`USBIP_RET_SUBMIT for seqnum ${h.seqnum}, which is not in flight`);
      if (h.actualLength > p.length) return this.#protocolError(`USBIP_RET_SUBMIT seqnum ${h.seqnum}: actual_length ${h.actualLength} exceeds the ${p.length} bytes asked for`);
      const dataLength = p.dirIn ? h.actualLength : 0;
      if (dataLength === 0) return this.#delivered(h, p, EMPTY);
      const data = p.receiveInto !== undefined ? p.receiveInto.subarray(0, dataLength) : new Uint8Array(dataLength);
      this.#reply = { header: h, urb: p, data, filled: 0 };
      return;
    }
    if (h.command === USBIP_COMMAND.USBIP_RET_UNLINK) {
      this.#trace('received', h, 0);
      const p = this.#unlinks.get(h.seqnum);
      // Unknown unlink seqnum: vhci-hcd ignores it too (its URB's RET_SUBMIT already arrived).
      if (p !== undefined) this.#finish(p, { kind: 'unlinked', why: p.why ?? 'abort' });
      return;
    }
    this.#protocolError(`the server sent a ${h.command === USBIP_COMMAND.USBIP_CMD_SUBMIT ? 'USBIP_CMD_SUBMIT' : 'USBIP_CMD_UNLINK'} (seqnum ${h.seqnum}): only a client sends commands`);
  }

  #delivered(h: UsbIpUrbHeader, p: PendingUrb, data: Uint8Array): void {
    if (h.command !== USBIP_COMMAND.USBIP_RET_SUBMIT) return;
    this.#trace('received', h, data.length, data);
    this.#finish(p, { kind: 'ret', status: h.status, actualLength: h.actualLength, data });
  }

  #protocolError(message: string): void {
    this.#lose(`protocol error from the server: ${message}`);
    this.#sock.destroy();
  }

  #lose(reason: string): void {
    if (this.#lost !== undefined) return;
    this.#lost = reason;
    // A URB being unlinked keeps its reason (a timeout stays a timeout); the others lost their device.
    for (const p of [...this.#pending.values()]) this.#finish(p, p.why !== undefined ? { kind: 'unlinked', why: p.why } : { kind: 'lost', reason });
    this.#sock.destroy();
  }

  #trace(direction: UsbIpTraceEvent['direction'], header: Uint8Array | UsbIpUrbHeader, dataLength: number, data?: Uint8Array): void {
    const t = this.#o.trace;
    if (t === undefined) return;
    t({ direction, header: header instanceof Uint8Array ? decodeUrbHeader(header) : header, dataLength, data });
  }

  /** For messages: `devid 0x00010002`. */
  describe(): string {
    return `devid ${hex(this.devid, 8)} (${this.device.busid})`;
  }
}
