/**
 * A minimal class driver on a {@link UfxClassDriverLink}, standing in for the GenericUSBFn model + the
 * device-side service in tests and benchmarks of the link: it loops bulk OUT data back on bulk IN and
 * answers a few class requests of the vendor test protocol (device-side/functions/test-protocol.ts).
 * Not a model of anything Windows does; the real path is simulator/usbfn + device-side/service.
 *
 * Loopback is zero-copy on the device side: each OUT buffer is sent back as the IN transfer and re-queued
 * once the host took it, so the bus does the only two copies (host → buffer, buffer → host).
 */
import { TEST_REQUEST } from '../../../core/index.js';
import { type UfxBusEvent, type UfxClassDriverLink } from '../device-end/index.js';
import { UfxAbort } from '../link-contract.js';

export interface FakeLoopbackOptions {
  /** OUT buffers kept queued. Default 4. */
  readonly queued?: number | undefined;
  /** Bytes per OUT buffer. Default 64 KiB. */
  readonly bufferBytes?: number | undefined;
  readonly outEndpoint?: number | undefined;
  readonly inEndpoint?: number | undefined;
  /** Echo with TRANSFER_IN_APPEND_ZERO_PKT. Default false. */
  readonly appendZeroLengthPacket?: boolean | undefined;
  /** Run the bulk loopback. Default true (false: scenarios queue transfers themselves via `link`). */
  readonly loopback?: boolean | undefined;
  /** Call activate() right away. Default true. */
  readonly activate?: boolean | undefined;
}

/** Counters for assertions. */
export interface FakeLoopbackStats {
  loopedTransfers: number;
  loopedBytes: number;
  setups: number;
  /** Requests that ended with UfxAbort, by reason. */
  aborts: Record<string, number>;
}

export class FakeLoopbackClassDriver {
  readonly link: UfxClassDriverLink;
  /** Every bus event received, in order. */
  readonly events: UfxBusEvent[] = [];
  readonly stats: FakeLoopbackStats = { loopedTransfers: 0, loopedBytes: 0, setups: 0, aborts: {} };
  /** Stored ECHO_WRITE payload, answered by ECHO_READ. */
  echo: Uint8Array = new Uint8Array(0);
  /** When false, class setups get no answer (the host's control transfer times out). */
  answerSetups = true;
  /** Errors from the link that are not UfxAbort (bugs): tests assert it stays empty. */
  readonly failures: unknown[] = [];
  readonly #queued: number;
  readonly #bufferBytes: number;
  readonly #out: number;
  readonly #in: number;
  readonly #zlp: boolean;
  readonly #loopback: boolean;
  /** Bumped on every configured/reset/detach so loops of an old configuration stop. */
  #generation = 0;

  constructor(link: UfxClassDriverLink, options: FakeLoopbackOptions = {}) {
    this.link = link;
    this.#queued = options.queued ?? 4;
    this.#bufferBytes = options.bufferBytes ?? 65536;
    this.#out = options.outEndpoint ?? 0x01;
    this.#in = options.inEndpoint ?? 0x81;
    this.#zlp = options.appendZeroLengthPacket ?? false;
    this.#loopback = options.loopback ?? true;
    link.setEventListener((e) => this.#onEvent(e));
    if (options.activate ?? true) link.activate();
  }

  #onEvent(e: UfxBusEvent): void {
    this.events.push(e);
    switch (e.type) {
      case 'configured':
        this.#generation++;
        if (this.#loopback) for (let i = 0; i < this.#queued; i++) this.#receive(new Uint8Array(this.#bufferBytes), this.#generation);
        break;
      case 'reset':
      case 'detach':
      case 'unConfigured':
        this.#generation++;
        break;
      case 'setupPacket':
        this.stats.setups++;
        if (this.answerSetups) this.#answer(e.setup);
        break;
      default:
        break;
    }
  }

  #receive(buffer: Uint8Array, generation: number): void {
    this.link.transferOut(this.#out, buffer).result.then(
      (n) => {
        if (generation !== this.#generation) return;
        this.link.transferIn(this.#in, buffer.subarray(0, n), this.#zlp).result.then(
          () => {
            this.stats.loopedTransfers++;
            this.stats.loopedBytes += n;
            if (generation === this.#generation) this.#receive(buffer, generation);
          },
          (err: unknown) => this.#onError(err),
        );
      },
      (err: unknown) => this.#onError(err),
    );
  }

  #answer(setup: Uint8Array): void {
    const bRequest = setup[1]!;
    const wValue = setup[2]! | (setup[3]! << 8);
    const wIndex = setup[4]! | (setup[5]! << 8);
    const wLength = setup[6]! | (setup[7]! << 8);
    const isIn = (setup[0]! & 0x80) !== 0;
    const link = this.link;
    const track = (p: Promise<number>): void => {
      p.catch((err: unknown) => this.#onError(err));
    };
    if (bRequest === TEST_REQUEST.ECHO_WRITE && !isIn) {
      const buffer = new Uint8Array(wLength);
      track(
        link.controlDataOut(buffer).result.then((n) => {
          this.echo = buffer.subarray(0, n);
          return link.controlHandshake('in').result;
        }),
      );
    } else if (bRequest === TEST_REQUEST.ECHO_READ && isIn) {
      track(link.controlDataIn(this.echo).result.then(() => link.controlHandshake('out').result));
    } else if (bRequest === TEST_REQUEST.RESET_STATE && !isIn && wLength === 0) {
      this.echo = new Uint8Array(0);
      track(link.controlHandshake('in').result);
    } else if (bRequest === TEST_REQUEST.SET_ENDPOINT_HALT && !isIn && wLength === 0) {
      link.setEndpointHalt(wIndex >> 8, wValue !== 0);
      track(link.controlHandshake('in').result);
    } else {
      link.stallControl();
    }
  }

  #onError(err: unknown): void {
    if (err instanceof UfxAbort) {
      this.stats.aborts[err.reason] = (this.stats.aborts[err.reason] ?? 0) + 1;
      return;
    }
    this.failures.push(err);
  }
}
