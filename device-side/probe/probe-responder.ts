/**
 * The device side of the probe protocol (core/probe-protocol.ts): one method per request, each a device step
 * whose raw IOCTLs the trace records and whose outcome goes into the observations. EP0 IOCTLs go to the
 * probe's EP0 pipe id; every wait is bounded by the attempt bound or the probe's deadline.
 */
import {
  AbortedError,
  PROBE_HANDSHAKE_FIRST,
  PROBE_REQUEST,
  TimeoutError,
  Win32Error,
  probePattern,
  withTimeout,
  type Clock,
  type SetupPacket,
} from '../../core/index.js';
import {
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT,
  IOCTL_GENERICUSBFN_GET_PIPE_STATE,
  IOCTL_GENERICUSBFN_SET_PIPE_STATE,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  WIN32_ERROR,
} from '../abi/index.js';
import type { ZeroLengthInSetting } from '../driver-settings.js';
import type { UsbFnFile, UsbFnPort } from '../usbfn-port.js';
import type { DeviceObservations, HandshakeAttempt } from './probe-findings.js';

/** What the responder needs from the probe around it. */
export interface ProbeResponderContext {
  readonly port: UsbFnPort;
  readonly file: UsbFnFile;
  readonly symbolicLink: string;
  readonly clock: Clock;
  readonly observations: DeviceObservations;
  readonly ep0PipeId: number;
  /** The USBFNPIPEID of an endpoint address at the current speed, if the function has it. */
  pipeFor(endpointAddress: number): number | undefined;
  /** Aborts at the probe's deadline or stop. */
  readonly signal: AbortSignal;
  /** Bound on one handshake attempt before the other direction is tried. */
  readonly attemptTimeoutMs: number;
  /** Bound on one 0-byte TRANSFER_IN (the host reads it right after the control request). */
  readonly zeroLengthTimeoutMs: number;
  readonly print: (line: string) => void;
  /** Builds the REPORT payload from the observations so far. */
  report(): Uint8Array;
}

const pipeInput = (pipeId: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, pipeId, true);
  return b;
};

const outcomeOf = (err: unknown): string =>
  err instanceof Win32Error ? err.win32Name : err instanceof TimeoutError ? 'timeout' : err instanceof Error ? err.message : String(err);

const REFUSED: ReadonlySet<number> = new Set([WIN32_ERROR.ERROR_INVALID_PARAMETER, WIN32_ERROR.ERROR_BAD_COMMAND]);

const ZERO_LENGTH_VARIANTS: readonly ZeroLengthInSetting[] = ['null-buffer', 'empty-buffer', 'append-zero-packet'];

export class ProbeResponder {
  readonly #c: ProbeResponderContext;
  /** The no-data handshake direction that worked first (used to acknowledge the later no-data steps). */
  #ackDirection: 'in' | 'out' | undefined;
  /** The 0-byte TRANSFER_IN attempts in flight (the REPORT waits for them). */
  #zeroLength: Promise<void> = Promise.resolve();
  /** True once REPORT was answered: the probe ends. */
  done = false;

  constructor(context: ProbeResponderContext) {
    this.#c = context;
  }

  /** Answers one class setup packet of the probe protocol (others stall). */
  async answer(setup: SetupPacket): Promise<void> {
    const c = this.#c;
    const endpoint = setup.wIndex >> 8;
    switch (setup.bRequest) {
      case PROBE_REQUEST.NO_DATA:
        return this.#noData(setup.wValue === PROBE_HANDSHAKE_FIRST.OUT ? 'out' : 'in');
      case PROBE_REQUEST.IN_DATA: {
        const data = probePattern(setup.wValue, setup.wLength);
        try {
          await this.#ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, c.ep0PipeId, data);
          await this.#ioctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, c.ep0PipeId, null);
          c.observations.inData = { length: setup.wLength, outcome: 'ok' };
        } catch (err) {
          c.observations.inData = { length: setup.wLength, outcome: outcomeOf(err) };
          throw err;
        }
        return;
      }
      case PROBE_REQUEST.OUT_DATA: {
        const buffer = new Uint8Array(setup.wLength);
        const n = await this.#ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, c.ep0PipeId, buffer);
        const expected = probePattern(setup.wValue, setup.wLength);
        const matches = n === setup.wLength && buffer.every((b, i) => b === expected[i]);
        c.observations.outData = { length: setup.wLength, received: n, matches, outcome: 'ok' };
        c.print(`OUT data stage: ${n} of ${setup.wLength} bytes, ${matches ? 'the expected pattern' : 'NOT the expected pattern'}`);
        if (!matches) return this.#stall();
        await this.#ioctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, c.ep0PipeId, null);
        return;
      }
      case PROBE_REQUEST.ZLP_ARM: {
        const pipe = c.pipeFor(endpoint);
        if (pipe === undefined) return this.#stall(`no IN pipe for endpoint 0x${endpoint.toString(16)}`);
        await this.#ack();
        // Not awaited: the host reads the ZLP after this control transfer has completed.
        this.#zeroLength = this.#zeroLengthIn(pipe);
        return;
      }
      case PROBE_REQUEST.HALT: {
        const pipe = c.pipeFor(endpoint);
        if (pipe === undefined) return this.#stall(`no pipe for endpoint 0x${endpoint.toString(16)}`);
        let setOutcome = 'ok';
        let stateAfterSet: boolean | undefined;
        try {
          await this.#ioctl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, pipe, Uint8Array.of(1));
          stateAfterSet = await this.#pipeState(pipe);
        } catch (err) {
          setOutcome = outcomeOf(err);
        }
        c.observations.halt = { setOutcome, stateAfterSet };
        c.print(`halt of endpoint 0x${endpoint.toString(16)} (pipe ${pipe}): SET_PIPE_STATE ${setOutcome}, GET_PIPE_STATE reads ${String(stateAfterSet)}`);
        return setOutcome === 'ok' ? this.#ack() : this.#stall();
      }
      case PROBE_REQUEST.HALT_STATE: {
        const pipe = c.pipeFor(endpoint);
        if (pipe === undefined) return this.#stall(`no pipe for endpoint 0x${endpoint.toString(16)}`);
        const state = await this.#pipeState(pipe);
        if (c.observations.halt !== undefined) c.observations.halt.stateAfterClear = state;
        c.print(`GET_PIPE_STATE of endpoint 0x${endpoint.toString(16)} after the host cleared it: ${state ? 'halted' : 'not halted'}`);
        return this.#reply(Uint8Array.of(state ? 1 : 0), setup.wLength);
      }
      case PROBE_REQUEST.SECOND_OPEN: {
        let win32 = 0;
        let win32Name = 'ERROR_SUCCESS';
        try {
          const second = await c.port.open(c.symbolicLink);
          await second.close();
        } catch (err) {
          if (!(err instanceof Win32Error)) throw err;
          win32 = err.win32;
          win32Name = err.win32Name;
        }
        c.observations.secondOpen = { win32, win32Name };
        c.print(`second CreateFileW while the first handle is open: ${win32 === 0 ? 'succeeded' : `failed with ${win32Name}(${win32})`}`);
        const reply = new Uint8Array(8);
        new DataView(reply.buffer).setUint32(0, win32, true);
        return this.#reply(reply, setup.wLength);
      }
      case PROBE_REQUEST.REPORT: {
        await withTimeout(c.clock, this.#zeroLength, '0-byte TRANSFER_IN of the ZLP step', c.zeroLengthTimeoutMs, { signal: c.signal }).catch(() => undefined);
        await this.#reply(c.report(), setup.wLength);
        this.done = true;
        return;
      }
      default:
        return this.#stall(`bRequest 0x${setup.bRequest.toString(16)} is not a probe request`);
    }
  }

  /** A no-data request: `first` direction, then the other when it is refused (87/22) or held past the bound. */
  async #noData(first: 'in' | 'out'): Promise<void> {
    const attempts: HandshakeAttempt[] = [];
    this.#c.observations.noData.push({ first, attempts });
    for (const direction of [first, first === 'in' ? 'out' : 'in'] as const) {
      try {
        await this.#handshake(direction);
        attempts.push({ direction, outcome: 'ok' });
        this.#ackDirection ??= direction;
        this.#c.print(`no-data request (${first.toUpperCase()} first): HANDSHAKE_${direction.toUpperCase()} completed the status stage`);
        return;
      } catch (err) {
        const outcome = outcomeOf(err);
        attempts.push({ direction, outcome });
        this.#c.print(`no-data request (${first.toUpperCase()} first): HANDSHAKE_${direction.toUpperCase()} ${outcome}`);
        const retry = err instanceof TimeoutError || (err instanceof Win32Error && REFUSED.has(err.win32));
        if (!retry || this.#c.signal.aborted) throw err;
      }
    }
  }

  /** One handshake, bounded by the attempt bound (then cancelled: CancelIoEx). */
  #handshake(direction: 'in' | 'out'): Promise<number> {
    const code = direction === 'in' ? IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN : IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT;
    return this.#bounded(`HANDSHAKE_${direction.toUpperCase()}`, this.#c.attemptTimeoutMs, (signal) => this.#c.file.ioctl(code, pipeInput(this.#c.ep0PipeId), null, { signal }));
  }

  /** Acknowledges a no-data step with the direction that worked before (IN, then OUT, when none did yet). */
  async #ack(): Promise<void> {
    const first = this.#ackDirection ?? 'in';
    try {
      await this.#handshake(first);
    } catch (err) {
      const retry = err instanceof TimeoutError || (err instanceof Win32Error && REFUSED.has(err.win32));
      if (!retry || this.#c.signal.aborted) throw err;
      await this.#handshake(first === 'in' ? 'out' : 'in');
    }
  }

  /** The 0-byte TRANSFER_IN variants in order, until one completes. */
  async #zeroLengthIn(pipe: number): Promise<void> {
    const c = this.#c;
    for (const variant of ZERO_LENGTH_VARIANTS) {
      const code = variant === 'append-zero-packet' ? IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT : IOCTL_GENERICUSBFN_TRANSFER_IN;
      const output = variant === 'empty-buffer' ? new Uint8Array(0) : null;
      try {
        const n = await this.#bounded(`0-byte TRANSFER_IN (${variant})`, c.zeroLengthTimeoutMs, (signal) => c.file.ioctl(code, pipeInput(pipe), output, { signal }));
        c.observations.zeroLength.push({ variant, outcome: 'ok', bytesReturned: n });
        c.print(`0-byte TRANSFER_IN on pipe ${pipe} (${variant}): completed, ${n} bytes`);
        return;
      } catch (err) {
        c.observations.zeroLength.push({ variant, outcome: outcomeOf(err) });
        c.print(`0-byte TRANSFER_IN on pipe ${pipe} (${variant}): ${outcomeOf(err)}`);
        if (c.signal.aborted || err instanceof AbortedError) return;
      }
    }
  }

  async #pipeState(pipe: number): Promise<boolean> {
    const out = new Uint8Array(1);
    await this.#ioctl(IOCTL_GENERICUSBFN_GET_PIPE_STATE, pipe, out);
    return out[0] !== 0;
  }

  /** A device→host data stage on EP0 (cut to wLength), then HANDSHAKE_OUT. */
  async #reply(data: Uint8Array, wLength: number): Promise<void> {
    await this.#ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, this.#c.ep0PipeId, data.subarray(0, Math.min(data.length, wLength)));
    await this.#ioctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, this.#c.ep0PipeId, null);
  }

  async #stall(why?: string): Promise<void> {
    if (why !== undefined) this.#c.print(`stalling EP0: ${why}`);
    await this.#ioctl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, this.#c.ep0PipeId, Uint8Array.of(1));
  }

  /** One IOCTL on `pipe`; the probe's deadline cancels it (CancelIoEx). */
  #ioctl(code: number, pipe: number, output: Uint8Array | null): Promise<number> {
    return this.#c.file.ioctl(code, pipeInput(pipe), output, { signal: this.#c.signal });
  }

  /** `start(signal)` bounded by `timeoutMs`: on timeout its request is cancelled and TimeoutError thrown. */
  #bounded(what: string, timeoutMs: number, start: (signal: AbortSignal) => Promise<number>): Promise<number> {
    const cancel = new AbortController();
    const onStop = (): void => cancel.abort(this.#c.signal.reason);
    this.#c.signal.addEventListener('abort', onStop, { once: true });
    const request = start(cancel.signal);
    return withTimeout(this.#c.clock, request, what, timeoutMs, { signal: this.#c.signal, onGiveUp: () => cancel.abort() }).finally(() =>
      this.#c.signal.removeEventListener('abort', onStop),
    );
  }
}
