/**
 * `UsbIpSession`: the server's protocol machine for one connection, independent of the transport (the
 * server feeds it a TCP socket; tests feed it bytes directly).
 *
 * Operation phase: one `OP_REQ_DEVLIST` (answered, then the connection closes, as usbipd does) or one
 * `OP_REQ_IMPORT` (answered; on success the URB phase starts). URB phase: `USBIP_CMD_SUBMIT`s run
 * concurrently through a {@link UsbIpStub} and are answered by `USBIP_RET_SUBMIT` in completion order;
 * `USBIP_CMD_UNLINK` aborts the URB's call and is answered by `USBIP_RET_UNLINK` (-ECONNRESET, and no
 * RET_SUBMIT), or with status 0 after the RET_SUBMIT when the URB had completed (the protocol document's
 * two cases).
 *
 * Hostile or malformed input never reaches the process: a message that breaks the protocol (wrong
 * version, unknown code or command, devid of another device, a direction or endpoint the device does not
 * have, a length over the server's limit, a seqnum already in flight, a client sending replies) ends that
 * connection with a logged reason, as Linux's stub drops a connection on an invalid PDU. Every wait is
 * bounded: the request of the operation phase, and any started message, must arrive within their limits.
 */
import type { Clock, ClockTimer } from '../../core/index.js';
import { hex, LibusbError } from '../../core/index.js';
import { ByteQueue } from './byte-queue.js';
import { PayloadPool, POOLED_PAYLOAD_BYTES } from './payload-pool.js';
import { configurationByValue, describeEndpoint, isochronousEndpoints } from './usbip-descriptors.js';
import { exportedDeviceRecord, type UsbIpExport, type UsbIpExports } from './usbip-exports.js';
import { decodeImportBusid, decodeOpCommon, encodeOpCommon, encodeOpRepDevlist, encodeOpRepImport } from './usbip-op-codec.js';
import { USBIP_BYTES, USBIP_COMMAND, USBIP_DIR, USBIP_MAX_ISO_PACKETS, USBIP_OP, USBIP_ST, USBIP_VERSION } from './usbip-protocol.js';
import { describeUsbIpStatus, usbipStatus } from './usbip-status.js';
import { UsbIpStub, type UsbIpUrbResult } from './usbip-stub.js';
import { decodeUrbHeader, encodeRetSubmit, encodeRetUnlink, type UsbIpCmdSubmit, type UsbIpCmdUnlink } from './usbip-urb-codec.js';

/** The byte stream a session talks over. */
export interface UsbIpTransport {
  /** Who is on the other end, for log lines (`127.0.0.1:40112`). */
  readonly remote: string;
  /**
   * Writes the chunks in order as one message; false when the peer reads slower than we write.
   * `onWritten` runs once the chunks are no longer needed (flushed to the kernel, or dropped with the connection).
   */
  write(chunks: readonly Uint8Array[], onWritten?: () => void): boolean;
  /** Closes after the pending writes. */
  end(): void;
  /** Stops / restarts delivering input (backpressure while the peer does not read our replies). */
  pauseInput(): void;
  resumeInput(): void;
}

/** Bounds of a server's sessions. */
export interface UsbIpLimits {
  /** Largest `transfer_buffer_length` accepted (a larger one ends the connection). Default 16 MiB. */
  readonly maxTransferBytes: number;
  /** URBs one connection may have in flight. Default 1024. */
  readonly maxInFlight: number;
  /** From connect until the operation request is complete. Default 10 000 ms. */
  readonly requestTimeoutMs: number;
  /** From the first byte of a URB-phase message until its last. Default 30 000 ms. */
  readonly messageTimeoutMs: number;
  /** Per-URB timeout on the exporting host; 0 = none (the client times out and unlinks). Default 0. */
  readonly transferTimeoutMs: number;
  /** Timeout of each descriptor read and of opening the device on import. Default 5000 ms. */
  readonly deviceTimeoutMs: number;
  /** How long a closing connection waits for its aborted URBs before it releases the device. Default 2000 ms. */
  readonly closeGraceMs: number;
}

export const DEFAULT_USBIP_LIMITS: UsbIpLimits = {
  maxTransferBytes: 16 * 1024 * 1024,
  maxInFlight: 1024,
  requestTimeoutMs: 10_000,
  messageTimeoutMs: 30_000,
  transferTimeoutMs: 0,
  deviceTimeoutMs: 5000,
  closeGraceMs: 2000,
};

/** One line of the server's log. */
export interface UsbIpLogEntry {
  readonly level: 'info' | 'warn' | 'error';
  /** Connection number (1, 2, ... per server). */
  readonly connection: number;
  readonly remote: string;
  /**
   * `end` closes every connection's story, exactly once, with its reason in `message`; `device` is about an
   * exported device (not exported: descriptors unreadable; closing it failed; hotplug events stopped).
   */
  readonly event: 'connect' | 'refused' | 'devlist' | 'import' | 'end' | 'device';
  readonly message: string;
}

export interface UsbIpSessionOptions {
  readonly id: number;
  readonly transport: UsbIpTransport;
  readonly exports: UsbIpExports;
  readonly clock: Clock;
  readonly limits: UsbIpLimits;
  readonly log: (entry: UsbIpLogEntry) => void;
  /** Buffers for large payloads, shared by the server's sessions. Default: one per session. */
  readonly pool?: PayloadPool | undefined;
}

/** A URB in flight. */
interface InFlight {
  readonly seqnum: number;
  readonly dirIn: boolean;
  readonly abort: AbortController;
  /** Set by a CMD_UNLINK: the seqnum its RET_UNLINK answers. */
  unlinkSeqnum: number | undefined;
}

type Phase = 'op' | 'busy' | 'urb' | 'closed';

const ECONNRESET = usbipStatus('ECONNRESET');
const EMPTY = new Uint8Array(0);

export class UsbIpSession {
  readonly id: number;
  /** Resolves with the reason once the connection ended and the device is released. */
  readonly done: Promise<string>;
  readonly #o: UsbIpSessionOptions;
  readonly #pool: PayloadPool;
  readonly #queue = new ByteQueue();
  readonly #inflight = new Map<number, InFlight>();
  #phase: Phase = 'op';
  #stub: UsbIpStub | undefined;
  /** A CMD_SUBMIT whose header is read and whose payload is awaited, with the payload's size. */
  #pending: { readonly cmd: UsbIpCmdSubmit; readonly outBytes: number; readonly isoBytes: number } | undefined;
  #requestTimer: ClockTimer | undefined;
  #messageTimer: ClockTimer | undefined;
  #deviceGone = false;
  /** A special request (SET_CONFIGURATION, ...) is running: the next message waits for it. */
  #serialized = false;
  /** The client closed its side while an operation was being answered. */
  #peerClosed = false;
  /** An operation (device list or import) is being answered: it releases the connection when done. */
  #operation = false;
  /** Called when the last URB in flight settles (a closing connection waits for it). */
  #onIdle: (() => void) | undefined;
  #reason: string | undefined;
  #resolveDone: (reason: string) => void = () => undefined;

  constructor(options: UsbIpSessionOptions) {
    this.#o = options;
    this.#pool = options.pool ?? new PayloadPool();
    this.id = options.id;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.#log('info', 'connect', 'connected');
    this.#requestTimer = options.clock.setTimer(options.limits.requestTimeoutMs, () =>
      this.#end(`no complete operation request within ${options.limits.requestTimeoutMs} ms (${this.#queue.length} bytes received)`, 'warn'),
    );
  }

  /** Whether the connection has ended. */
  get closed(): boolean {
    return this.#phase === 'closed';
  }

  /** The busid this connection imported, if it did. */
  get importedBusid(): string | undefined {
    return this.#stub?.export.busid;
  }

  /** The `UsbDeviceInfo.id` of the imported device, if any. */
  get importedDeviceId(): string | undefined {
    return this.#stub?.export.info.id;
  }

  /** Bytes from the peer. */
  receive(chunk: Uint8Array): void {
    if (this.#phase === 'closed') return;
    this.#queue.push(chunk);
    if (this.#phase !== 'busy') this.#pump();
  }

  /** The peer closed its sending side (TCP FIN). */
  inputEnded(): void {
    if (this.#phase === 'closed') return;
    const partial = this.#partialDescription();
    if (partial !== undefined) this.#end(`the client closed the connection in the middle of a message: ${partial}`, 'warn');
    else if (this.#phase === 'op') this.#end('the client closed the connection without a request', 'info');
    else if (this.#phase === 'urb') this.#end('the client closed the connection', 'info');
    // 'busy': the operation's reply is on its way; once it has answered, the bytes that came with the
    // request are processed and this end is taken into account.
    else this.#peerClosed = true;
  }

  /** The transport failed (socket error, reset). */
  transportFailed(err: unknown): void {
    this.#end(`connection error: ${err instanceof Error ? err.message : String(err)}`, 'warn');
  }

  /** The transport can take writes again: resume reading. */
  drained(): void {
    if (this.#phase !== 'closed') this.#o.transport.resumeInput();
  }

  /** The imported device went away: answer what is in flight (their calls fail), then close. */
  deviceDetached(): void {
    if (this.#phase === 'closed' || this.#deviceGone) return;
    this.#deviceGone = true;
    if (this.#inflight.size === 0) this.#end('the exported device detached', 'info');
    else this.#o.clock.setTimer(this.#o.limits.closeGraceMs, () => this.#end('the exported device detached', 'info'));
  }

  /** Ends the connection from the server's side (server shutdown). */
  close(reason: string): Promise<string> {
    this.#end(reason, 'info');
    return this.done;
  }

  // ---------------------------------------------------------------------------------------------
  // Parsing

  #pump(): void {
    try {
      while (this.#phase === 'op' || (this.#phase === 'urb' && !this.#serialized)) {
        if (!(this.#phase === 'op' ? this.#stepOp() : this.#stepUrb())) break;
      }
    } catch (err) {
      // A decoder's UsageError (malformed field) or an unexpected bug: either way this connection ends, not the process.
      const internal = !(err instanceof Error && 'code' in err && err.code === 'USBIP_PROTOCOL');
      this.#end(`${internal ? 'internal error while parsing' : 'malformed message'}: ${err instanceof Error ? err.message : String(err)}`, internal ? 'error' : 'warn');
      return;
    }
    this.#armMessageTimer();
  }

  /** Operation phase: false when more bytes are needed. */
  #stepOp(): boolean {
    if (this.#queue.length < USBIP_BYTES.OP_COMMON) return false;
    const op = decodeOpCommon(this.#queue.peek(USBIP_BYTES.OP_COMMON));
    if (op.version !== USBIP_VERSION) {
      this.#violation(`operation header version ${hex(op.version, 4)} is not ${hex(USBIP_VERSION, 4)} (USB/IP 1.1.1)`);
      return false;
    }
    switch (op.code) {
      case USBIP_OP.OP_REQ_DEVLIST:
        this.#queue.skip(USBIP_BYTES.OP_COMMON);
        this.#startOperation();
        void this.#devlist();
        return false;
      case USBIP_OP.OP_REQ_IMPORT: {
        if (this.#queue.length < USBIP_BYTES.OP_COMMON + USBIP_BYTES.BUSID) return false;
        this.#queue.skip(USBIP_BYTES.OP_COMMON);
        const busid = decodeImportBusid(this.#queue.take(USBIP_BYTES.BUSID));
        this.#startOperation();
        void this.#import(busid);
        return false;
      }
      default:
        this.#violation(`unknown operation code ${hex(op.code, 4)}: expected OP_REQ_DEVLIST (0x8005) or OP_REQ_IMPORT (0x8003)`);
        return false;
    }
  }

  #startOperation(): void {
    this.#phase = 'busy';
    this.#operation = true;
    this.#requestTimer?.cancel();
    this.#requestTimer = undefined;
  }

  /** URB phase: false when more bytes are needed. */
  #stepUrb(): boolean {
    const p = this.#pending;
    if (p !== undefined) {
      if (this.#queue.length < p.outBytes + p.isoBytes) return false;
      let payload: Uint8Array = EMPTY;
      if (p.outBytes >= POOLED_PAYLOAD_BYTES) {
        payload = this.#pool.acquire(p.outBytes);
        this.#queue.takeInto(payload, 0, p.outBytes);
      } else if (p.outBytes > 0) payload = this.#queue.take(p.outBytes);
      this.#queue.skip(p.isoBytes);
      this.#pending = undefined;
      this.#dispatch(p.cmd, payload);
      return true;
    }
    if (this.#queue.length < USBIP_BYTES.HEADER) return false;
    const h = decodeUrbHeader(this.#queue.take(USBIP_BYTES.HEADER));
    const stub = this.#stub!;
    if (h.command === USBIP_COMMAND.USBIP_RET_SUBMIT || h.command === USBIP_COMMAND.USBIP_RET_UNLINK) {
      this.#violation(`the client sent a ${h.command === USBIP_COMMAND.USBIP_RET_SUBMIT ? 'USBIP_RET_SUBMIT' : 'USBIP_RET_UNLINK'} (seqnum ${h.seqnum}): only a server sends replies`);
      return false;
    }
    if (h.devid !== stub.devid) {
      this.#violation(`seqnum ${h.seqnum}: devid ${hex(h.devid, 8)} is not the imported device's ${hex(stub.devid, 8)}`);
      return false;
    }
    if (h.command === USBIP_COMMAND.USBIP_CMD_UNLINK) {
      this.#unlink(h);
      return true;
    }
    const check = this.#checkSubmit(h);
    if (typeof check === 'string') {
      this.#violation(check);
      return false;
    }
    this.#pending = { cmd: h, ...check };
    return true;
  }

  /** Why a CMD_SUBMIT breaks the protocol, or the sizes of what follows its header. */
  #checkSubmit(h: UsbIpCmdSubmit): { outBytes: number; isoBytes: number } | string {
    const at = `CMD_SUBMIT seqnum ${h.seqnum}`;
    const { limits } = this.#o;
    if (h.direction !== USBIP_DIR.USBIP_DIR_OUT && h.direction !== USBIP_DIR.USBIP_DIR_IN) return `${at}: direction ${h.direction} is neither USBIP_DIR_OUT (0) nor USBIP_DIR_IN (1)`;
    if (h.ep > 15) return `${at}: endpoint number ${h.ep} is not 0..15`;
    if (this.#inflight.has(h.seqnum)) return `${at}: that seqnum is already in flight (seqnums identify URBs and must be unique)`;
    if (this.#inflight.size >= limits.maxInFlight) return `${at}: more than ${limits.maxInFlight} URBs in flight`;
    if (h.transferBufferLength > limits.maxTransferBytes) {
      return `${at}: transfer_buffer_length ${h.transferBufferLength} exceeds the server's limit of ${limits.maxTransferBytes} bytes`;
    }
    const dirIn = h.direction === USBIP_DIR.USBIP_DIR_IN;
    const address = h.ep | (dirIn ? 0x80 : 0);
    const type = this.#stub!.endpointType(address);
    if (type === undefined) {
      return `${at}: the device has no endpoint ${describeEndpoint(address, undefined)} in its current setting (wrong direction or endpoint number)`;
    }
    if (type === 'control') {
      const wLength = h.setup[6]! | (h.setup[7]! << 8);
      const setupIn = (h.setup[0]! & 0x80) !== 0;
      if (wLength !== h.transferBufferLength) return `${at}: transfer_buffer_length ${h.transferBufferLength} differs from the setup's wLength ${wLength}`;
      if (wLength > 0 && setupIn !== dirIn) return `${at}: direction ${dirIn ? 'IN' : 'OUT'} contradicts bmRequestType ${hex(h.setup[0]!)}`;
    }
    const iso = type === 'isochronous';
    if (iso && h.numberOfPackets > USBIP_MAX_ISO_PACKETS) return `${at}: number_of_packets ${h.numberOfPackets} exceeds ${USBIP_MAX_ISO_PACKETS}`;
    return { outBytes: dirIn ? 0 : h.transferBufferLength, isoBytes: iso ? h.numberOfPackets * USBIP_BYTES.ISO_PACKET_DESCRIPTOR : 0 };
  }

  #partialDescription(): string | undefined {
    const p = this.#pending;
    if (p !== undefined) return `${this.#queue.length} of the ${p.outBytes + p.isoBytes} payload bytes of CMD_SUBMIT seqnum ${p.cmd.seqnum}`;
    if (this.#queue.length === 0) return undefined;
    if (this.#phase === 'urb') return `${this.#queue.length} of the ${USBIP_BYTES.HEADER} bytes of a usbip_header`;
    if (this.#phase === 'op') return `${this.#queue.length} bytes of an operation request`;
    return undefined;
  }

  /** A started URB-phase message must complete within messageTimeoutMs. */
  #armMessageTimer(): void {
    const partial = this.#phase === 'urb' && (this.#pending !== undefined || this.#queue.length > 0);
    if (!partial) {
      this.#messageTimer?.cancel();
      this.#messageTimer = undefined;
      return;
    }
    if (this.#messageTimer !== undefined) return;
    const ms = this.#o.limits.messageTimeoutMs;
    this.#messageTimer = this.#o.clock.setTimer(ms, () => {
      this.#messageTimer = undefined;
      this.#end(`a message stayed incomplete for ${ms} ms: ${this.#partialDescription() ?? 'nothing pending'}`, 'warn');
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Operations

  async #devlist(): Promise<void> {
    const { exports, transport } = this.#o;
    try {
      const list = await exports.list((info, err) => this.#log('warn', 'device', `device ${info.id} is not exported: its descriptors could not be read (${messageOf(err)})`));
      if (this.#phase !== 'closed') {
        transport.write([encodeOpRepDevlist(list.map((e) => exportedDeviceRecord(e, exports.host.backend)))]);
        this.#log('info', 'devlist', `sent ${list.length} device(s)`);
        for (const e of list) this.#warnIsochronous(e, 'devlist');
        this.#end('device list sent', 'info');
      }
    } catch (err) {
      if (this.#phase !== 'closed') {
        transport.write([encodeOpCommon(USBIP_OP.OP_REP_DEVLIST, USBIP_ST.ST_ERROR)]);
        this.#end(`device list failed: ${messageOf(err)}`, 'error');
      }
    } finally {
      this.#operation = false;
      await this.#release();
    }
  }

  async #import(busid: string): Promise<void> {
    try {
      await this.#importDevice(busid);
    } catch (err) {
      this.#end(`internal error during import: ${messageOf(err)}`, 'error');
    } finally {
      this.#operation = false;
      if (this.#phase === 'closed') await this.#release();
    }
  }

  async #importDevice(busid: string): Promise<void> {
    const { exports, transport, limits } = this.#o;
    const refuse = (status: number, reason: string, level: UsbIpLogEntry['level']): void => {
      if (this.#phase === 'closed') return;
      transport.write([encodeOpRepImport(status)]);
      this.#end(`import of '${busid}' refused: ${reason}`, level);
    };
    let stub: UsbIpStub;
    try {
      const exp = await exports.find(busid);
      if (exp === undefined) return refuse(USBIP_ST.ST_NODEV, 'no exported device has that busid (list them with OP_REQ_DEVLIST)', 'warn');
      if (!exports.markImported(busid)) return refuse(USBIP_ST.ST_DEV_BUSY, 'another connection has imported it', 'warn');
      try {
        stub = await UsbIpStub.open(exports.host, exp, { timeoutMs: limits.deviceTimeoutMs, transferTimeoutMs: limits.transferTimeoutMs });
      } catch (err) {
        exports.unmarkImported(busid);
        throw err;
      }
    } catch (err) {
      const busy = err instanceof LibusbError && err.libusbName === 'LIBUSB_ERROR_BUSY';
      return refuse(busy ? USBIP_ST.ST_DEV_BUSY : USBIP_ST.ST_DEV_ERR, `the device could not be opened: ${messageOf(err)}`, 'error');
    }
    this.#stub = stub; // released by #release, whatever happens next
    if (this.#phase === 'closed') return;
    transport.write([encodeOpRepImport(USBIP_ST.ST_OK, exportedDeviceRecord(stub.export, exports.host.backend))]);
    this.#log('info', 'import', `imported ${stub.describe()}`);
    this.#warnIsochronous(stub.export, 'import');
    this.#phase = 'urb';
    this.#pump();
    if (this.#peerClosed) this.inputEnded();
  }

  // ---------------------------------------------------------------------------------------------
  // URBs

  #dispatch(cmd: UsbIpCmdSubmit, payload: Uint8Array): void {
    const entry: InFlight = { seqnum: cmd.seqnum, dirIn: cmd.direction === USBIP_DIR.USBIP_DIR_IN, abort: new AbortController(), unlinkSeqnum: undefined };
    this.#inflight.set(cmd.seqnum, entry);
    if (this.#deviceGone) {
      this.#completed(entry, { status: usbipStatus('ENODEV'), actualLength: 0 });
      return;
    }
    const stub = this.#stub!;
    const serialize = stub.isSpecialRequest(cmd);
    if (serialize) this.#serialized = true;
    const receive = entry.dirIn && cmd.transferBufferLength >= POOLED_PAYLOAD_BYTES ? this.#pool.acquire(cmd.transferBufferLength) : undefined;
    stub.submit(cmd, payload, entry.abort.signal, receive).then(
      (r) => {
        // The host is done with the OUT payload; the IN buffer goes back once the reply is written.
        if (payload.length >= POOLED_PAYLOAD_BYTES) this.#pool.release(payload);
        this.#completed(entry, r, receive);
        if (serialize) {
          this.#serialized = false;
          if (this.#phase === 'urb') this.#pump();
        }
      },
      (err: unknown) => this.#end(`internal error running URB seqnum ${cmd.seqnum}: ${messageOf(err)}`, 'error'),
    );
  }

  #completed(entry: InFlight, r: UsbIpUrbResult, receive?: Uint8Array): void {
    this.#inflight.delete(entry.seqnum);
    if (this.#inflight.size === 0) this.#onIdle?.();
    const pool = this.#pool;
    const done = receive === undefined ? undefined : (): void => pool.release(receive);
    if (this.#phase === 'closed') {
      done?.();
      return;
    }
    const unlinkSeqnum = entry.unlinkSeqnum;
    if (unlinkSeqnum !== undefined && r.status === ECONNRESET) {
      this.#send([encodeRetUnlink({ seqnum: unlinkSeqnum, devid: 0, direction: 0, ep: 0, status: ECONNRESET })], done);
    } else {
      const data = entry.dirIn && r.data !== undefined && r.actualLength > 0 ? r.data.subarray(0, r.actualLength) : undefined;
      const header = encodeRetSubmit({
        seqnum: entry.seqnum,
        devid: 0,
        direction: 0,
        ep: 0,
        status: r.status,
        actualLength: r.actualLength,
        startFrame: 0,
        numberOfPackets: 0,
        errorCount: 0,
      });
      this.#send(data === undefined ? [header] : [header, data], done);
      // Completed before the unlink took effect: the RET_SUBMIT went first, the RET_UNLINK says 0.
      if (unlinkSeqnum !== undefined) this.#send([encodeRetUnlink({ seqnum: unlinkSeqnum, devid: 0, direction: 0, ep: 0, status: 0 })]);
    }
    if (this.#deviceGone && this.#inflight.size === 0) this.#end(`the exported device detached (last URB ended ${describeUsbIpStatus(r.status)})`, 'info');
  }

  #unlink(h: UsbIpCmdUnlink): void {
    const entry = this.#inflight.get(h.unlinkSeqnum);
    if (entry === undefined || entry.unlinkSeqnum !== undefined) {
      // Not in flight (already answered, or never submitted): stub_rx.c answers status 0 at once.
      this.#send([encodeRetUnlink({ seqnum: h.seqnum, devid: 0, direction: 0, ep: 0, status: 0 })]);
      return;
    }
    entry.unlinkSeqnum = h.seqnum;
    entry.abort.abort();
  }

  #send(chunks: readonly Uint8Array[], onWritten?: () => void): void {
    if (!this.#o.transport.write(chunks, onWritten)) this.#o.transport.pauseInput();
  }

  // ---------------------------------------------------------------------------------------------
  // Ending

  #violation(reason: string): void {
    this.#end(`protocol violation: ${reason}`, 'warn');
  }

  #end(reason: string, level: UsbIpLogEntry['level']): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#reason = reason;
    this.#requestTimer?.cancel();
    this.#messageTimer?.cancel();
    this.#requestTimer = this.#messageTimer = undefined;
    this.#queue.clear();
    this.#pending = undefined;
    this.#log(level, 'end', reason);
    for (const e of this.#inflight.values()) e.abort.abort();
    this.#o.transport.end();
    // An operation still being answered releases the connection itself when it returns.
    if (!this.#operation) void this.#release();
  }

  /** After the end: waits (bounded) for aborted URBs, then closes the device and frees the import. */
  async #release(): Promise<void> {
    const stub = this.#stub;
    this.#stub = undefined;
    if (stub !== undefined) {
      await this.#whenIdle();
      try {
        await stub.close();
      } catch (err) {
        this.#log('error', 'device', `closing the device failed: ${messageOf(err)}`);
      }
      this.#o.exports.unmarkImported(stub.export.busid);
    }
    this.#resolveDone(this.#reason ?? 'closed');
  }

  /** Resolves when no URB is in flight, or after closeGraceMs. */
  #whenIdle(): Promise<void> {
    if (this.#inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = (): void => {
        timer.cancel();
        this.#onIdle = undefined;
        resolve();
      };
      const timer = this.#o.clock.setTimer(this.#o.limits.closeGraceMs, finish);
      this.#onIdle = finish;
    });
  }

  /** Isochronous transfers are out of scope: say so for a device that has such endpoints. */
  #warnIsochronous(e: UsbIpExport, event: 'devlist' | 'import'): void {
    const iso = isochronousEndpoints(configurationByValue(e.descriptors, e.activeConfiguration));
    if (iso.length === 0) return;
    this.#log('warn', event, `${e.busid}: isochronous endpoint(s) ${iso.map((a) => hex(a)).join(', ')} are not supported over this server: their URBs are refused with -EOPNOTSUPP (docs/usbip.md)`);
  }

  #log(level: UsbIpLogEntry['level'], event: UsbIpLogEntry['event'], message: string): void {
    this.#o.log({ level, connection: this.id, remote: this.#o.transport.remote, event, message });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
