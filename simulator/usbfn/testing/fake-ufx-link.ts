/**
 * A scripted {@link UfxClassDriverLink} for unit tests of the GenericUSBFn model: a test plays both UFX
 * (bus events, purges) and the host (taking IN data, sending OUT data) by hand, with no bus model.
 *
 * Follows the UFX rules the model relies on (*UFX page*): reset and detach purge every
 * endpoint queue, SET_CONFIGURATION(0) purges the interface endpoints, then the event is reported;
 * interface endpoint requests outside Configured are rejected (WDF purged-queue rule); a halted
 * endpoint holds its transfers until un-halted. Events are delivered asynchronously (a microtask later),
 * in order.
 */
import type { UsbDeviceSpeed } from '../../../core/index.js';
import {
  UfxAbort,
  type UfxAbortReason,
  type UfxBusEvent,
  type UfxClassDriverLink,
  type UfxRequest,
} from '../../link/index.js';
import type { UsbFnRegistryConfig } from '../../config/index.js';

/** What a queued request was for. */
export type FakeTransferKind = 'in' | 'out' | 'controlIn' | 'controlOut' | 'handshake';

/** One request the class driver queued on the fake link. */
export class FakeTransfer {
  settled = false;
  readonly request: UfxRequest<number>;
  #resolve!: (bytes: number) => void;
  #reject!: (e: UfxAbort) => void;

  constructor(
    readonly kind: FakeTransferKind,
    /** Endpoint address; 0x80 / 0x00 for EP0 data stages, 0x00 for handshakes. */
    readonly endpoint: number,
    /** IN: the data to send; OUT: the buffer to fill. */
    readonly data: Uint8Array,
    /** TRANSFER_IN_APPEND_ZERO_PKT asked for a trailing ZLP. */
    readonly appendZeroLengthPacket: boolean,
    /** Handshake direction. */
    readonly handshakeDirection: 'in' | 'out' | undefined,
    private readonly onSettle: (t: FakeTransfer) => void,
  ) {
    const result = new Promise<number>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.request = { result, cancel: () => this.abort('cancelled') };
  }

  /** Completes with `bytes` transferred. */
  complete(bytes: number): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.onSettle(this);
    this.#resolve(bytes);
    return true;
  }

  /** Ends it with UfxAbort(reason). Returns false if already settled. */
  abort(reason: UfxAbortReason, bytesTransferred = 0): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.onSettle(this);
    this.#reject(new UfxAbort(reason, bytesTransferred));
    return true;
  }
}

/** A hand-driven UFX for one function. */
export class FakeUfxLink implements UfxClassDriverLink {
  readonly config: UsbFnRegistryConfig;
  speed: UsbDeviceSpeed | undefined = undefined;
  configured = false;
  /** ACTIVATE_USB_BUS calls that reached UFX. */
  activations = 0;
  /** SET_PIPE_STATE(TRUE) on pipe 0. */
  controlStalls = 0;
  readonly halted = new Set<number>();
  readonly #queue: FakeTransfer[] = [];
  #listener: ((event: UfxBusEvent) => void) | undefined;
  #events: UfxBusEvent[] = [];
  readonly #onSettle = (t: FakeTransfer): void => {
    const i = this.#queue.indexOf(t);
    if (i >= 0) this.#queue.splice(i, 1);
  };

  constructor(config: UsbFnRegistryConfig) {
    this.config = config;
  }

  setEventListener(listener: (event: UfxBusEvent) => void): void {
    this.#listener = listener;
  }

  activate(): void {
    this.activations++;
  }

  controlDataIn(data: Uint8Array): UfxRequest<number> {
    return this.#submit('controlIn', 0x80, data, false, undefined, this.speed === undefined);
  }

  controlDataOut(buffer: Uint8Array): UfxRequest<number> {
    return this.#submit('controlOut', 0x00, buffer, false, undefined, this.speed === undefined);
  }

  controlHandshake(direction: 'in' | 'out'): UfxRequest<number> {
    return this.#submit('handshake', 0x00, new Uint8Array(0), false, direction, this.speed === undefined);
  }

  stallControl(): void {
    this.controlStalls++;
  }

  transferIn(endpointAddress: number, data: Uint8Array, appendZeroLengthPacket: boolean): UfxRequest<number> {
    return this.#submit('in', endpointAddress, data, appendZeroLengthPacket, undefined, !this.configured);
  }

  transferOut(endpointAddress: number, buffer: Uint8Array): UfxRequest<number> {
    return this.#submit('out', endpointAddress, buffer, false, undefined, !this.configured);
  }

  setEndpointHalt(endpointAddress: number, halted: boolean): void {
    if (halted) this.halted.add(endpointAddress);
    else this.halted.delete(endpointAddress);
  }

  isEndpointHalted(endpointAddress: number): boolean {
    return this.halted.has(endpointAddress);
  }

  #submit(
    kind: FakeTransferKind,
    endpoint: number,
    data: Uint8Array,
    zlp: boolean,
    direction: 'in' | 'out' | undefined,
    invalidState: boolean,
  ): UfxRequest<number> {
    const t = new FakeTransfer(kind, endpoint, data, zlp, direction, this.#onSettle);
    if (invalidState) {
      t.abort('invalidState');
      return t.request;
    }
    this.#queue.push(t);
    return t.request;
  }

  // -------------------------------------------------------------------------------------------
  // The host's side

  /** Requests still queued, optionally only those on `endpoint`, oldest first. */
  pending(endpoint?: number): FakeTransfer[] {
    return endpoint === undefined ? [...this.#queue] : this.#queue.filter((t) => t.endpoint === endpoint);
  }

  /** The host takes the oldest IN transfer on `endpoint`; undefined if none, or held because the endpoint is halted. */
  hostTake(endpoint: number): FakeTransfer | undefined {
    if (this.halted.has(endpoint)) return undefined;
    const t = this.#queue.find((q) => q.endpoint === endpoint && (q.kind === 'in' || q.kind === 'controlIn'));
    t?.complete(t.data.length);
    return t;
  }

  /** The host sends `payload` into the oldest OUT transfer on `endpoint` (overflow when it does not fit). */
  hostSend(endpoint: number, payload: Uint8Array): FakeTransfer | undefined {
    if (this.halted.has(endpoint)) return undefined;
    const t = this.#queue.find((q) => q.endpoint === endpoint && (q.kind === 'out' || q.kind === 'controlOut'));
    if (t === undefined) return undefined;
    const n = Math.min(payload.length, t.data.length);
    t.data.set(payload.subarray(0, n));
    if (payload.length > t.data.length) t.abort('overflow', n);
    else t.complete(n);
    return t;
  }

  /** The host completes the status stage (the oldest queued handshake). */
  hostHandshake(): FakeTransfer | undefined {
    const t = this.#queue.find((q) => q.kind === 'handshake');
    t?.complete(0);
    return t;
  }

  // -------------------------------------------------------------------------------------------
  // Bus script (what UFX reports)

  attach(): void {
    this.#emit({ type: 'attach' });
  }

  /** Bus reset at `speed`: configured state lost, every queue purged (*UFX page*). */
  reset(speed: UsbDeviceSpeed = 'high'): void {
    this.speed = speed;
    this.configured = false;
    this.#purge(() => true);
    this.#emit({ type: 'reset', speed });
  }

  /** SET_CONFIGURATION(value ≠ 0). */
  configure(configurationValue = 1): void {
    this.configured = true;
    this.#emit({ type: 'configured', configurationValue });
  }

  /** SET_CONFIGURATION(0): interface endpoint queues purged (*UFX page*). */
  unconfigure(): void {
    this.configured = false;
    this.#purge((t) => (t.endpoint & 0x0f) !== 0);
    this.#emit({ type: 'unConfigured' });
  }

  /** VBUS gone: every queue purged (*UFX page*). */
  detach(): void {
    this.speed = undefined;
    this.configured = false;
    this.#purge(() => true);
    this.#emit({ type: 'detach' });
  }

  suspend(): void {
    this.#emit({ type: 'suspend' });
  }

  resume(): void {
    this.#emit({ type: 'resume' });
  }

  setupPacket(setup: Uint8Array): void {
    this.#emit({ type: 'setupPacket', setup });
  }

  setInterface(interfaceNumber: number, alternateSetting: number): void {
    this.#emit({ type: 'setInterface', interfaceNumber, alternateSetting });
  }

  /** attach → reset(speed) → configured(1), as a host enumerating the device. */
  enumerate(speed: UsbDeviceSpeed = 'high'): void {
    this.attach();
    this.reset(speed);
    this.configure(1);
  }

  #purge(which: (t: FakeTransfer) => boolean): void {
    for (const t of [...this.#queue]) if (which(t)) t.abort('purged');
  }

  #emit(event: UfxBusEvent): void {
    if (this.#events.length === 0) {
      queueMicrotask(() => {
        const events = this.#events;
        this.#events = [];
        for (const e of events) this.#listener?.(e);
      });
    }
    this.#events.push(event);
  }
}
