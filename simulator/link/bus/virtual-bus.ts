/**
 * The simulated USB link between the virtual host (`SimUsbHost`, simulator/link/host-end) and the function
 * controller (`UfxDevice`, simulator/link/device-end): VBUS attach/detach, connect (pull-up), port reset
 * with speed negotiation, addressing and suspend/resume. This class is the façade; the work is done by
 * - control-pipe.ts: EP0's serial control pipe and its stages;
 * - packet-engine.ts: the endpoint pipes with the real packet rules;
 * - completion-timeline.ts: the bus-wide time line (bus-timing.ts) and the completions fired from it;
 * - bus-faults.ts: dropped URBs and submit hooks;
 * - urb-tap.ts: the capture tap (usbmon semantics, simulator/capture/urb-event.ts).
 * The bus sees the two ends only through simulator/link/link-contract.ts.
 *
 * @see USB 2.0 §5.8 (bulk), §5.5 (control), §8.5.3.2 (control data stage ends), §9.1 (device states)
 * @see docs/reference/documented-vs-inferred.md#link-documented (*UFX page*: purge, stall and ZLP rules)
 */
import { type UsbDeviceSpeed, type Clock, type ClockTimer, SimulatorError } from '../../../core/index.js';
import type { UrbSink } from '../../capture/index.js';
import { URB_STATE, type LinkUrb, type UrbOutcome } from '../link-contract.js';
import { BusFaults, type UrbMatch, type UrbSubmitInfo } from './bus-faults.js';
import { type BusFunctionController, BusState } from './bus-state.js';
import { SLOT_UNITS } from './bus-timing.js';
import { CompletionTimeline } from './completion-timeline.js';
import { ControlPipe } from './control-pipe.js';
import { type EndpointState, PacketEngine } from './packet-engine.js';
import { URB_STATUS, URB_STATUS_IN_PROGRESS, UrbTap } from './urb-tap.js';

/** Speeds in increasing order, for negotiation. */
const SPEED_RANK: Readonly<Record<UsbDeviceSpeed, number>> = { full: 0, high: 1, super: 2 };

/** What the bus tells the host end (implemented by the SimUsbHost's port). */
export interface BusHostListener {
  /** The device connected (VBUS present and pull-up on): the hub reports a connect change. */
  connected(bus: VirtualBus): void;
  /** The device went away (detach). */
  disconnected(bus: VirtualBus): void;
}

export interface VirtualBusOptions {
  readonly clock: Clock;
  /** usbmon busnum. Default 1. */
  readonly busNumber?: number | undefined;
  /** Fastest speed of the host port. Default 'high' (a USB 2.0 port). */
  readonly portSpeed?: UsbDeviceSpeed | undefined;
  /** Capture tap: receives every URB submission and completion. */
  readonly urbSink?: UrbSink | undefined;
}

/**
 * The link. One host port, one function controller.
 * @example
 * const bus = new VirtualBus({ clock, portSpeed: 'high', urbSink: capture });
 * const ufx = new UfxDevice(bus, loopbackFunctionConfig());
 * const host = new SimUsbHost({ clock, ports: [bus] });
 * bus.attach();
 */
export class VirtualBus {
  readonly clock: Clock;
  readonly busNumber: number;
  readonly portSpeed: UsbDeviceSpeed;
  readonly #state = new BusState();
  readonly #tap: UrbTap;
  readonly #timeline: CompletionTimeline;
  /** EP0: the function controller answers the current control transfer here (control-pipe.ts). */
  readonly ep0: ControlPipe;
  /** The other endpoints: the function controller configures them and queues its transfers here (packet-engine.ts). */
  readonly endpoints: PacketEngine;
  readonly #faults = new BusFaults();
  #host: BusHostListener | undefined;
  #vbus = false;
  #pullup = false;
  #speed: UsbDeviceSpeed | undefined;
  #suspendNotified = false;
  #suspendTimer: ClockTimer | undefined;
  #nextUrbId = 1;

  constructor(options: VirtualBusOptions) {
    this.clock = options.clock;
    this.busNumber = options.busNumber ?? 1;
    this.portSpeed = options.portSpeed ?? 'high';
    this.#tap = new UrbTap(this.clock, this.busNumber, options.urbSink, (endpoint) => this.endpoints.interval(endpoint));
    this.#timeline = new CompletionTimeline(this.clock, this.#tap);
    this.ep0 = new ControlPipe(this.#state, this.#timeline);
    this.#timeline.listen(this.ep0);
    this.endpoints = new PacketEngine(this.#state, this.#timeline);
  }

  // ------------------------------------------------------------------------------------------
  // Wiring and state

  /** Plugs the function controller into the device end (once). */
  plugDevice(device: BusFunctionController): void {
    if (this.#state.device !== undefined) {
      throw new SimulatorError('SIM_BUS_DEVICE_PRESENT', 'a function controller is already plugged into this bus; create one VirtualBus per device');
    }
    this.#state.device = device;
  }

  /** Sets the host end's listener (the SimUsbHost port). */
  setHostListener(listener: BusHostListener | undefined): void {
    this.#host = listener;
  }

  /** Sets or removes the capture tap. */
  setUrbSink(sink: UrbSink | undefined): void {
    this.#tap.sink = sink;
  }

  get vbus(): boolean {
    return this.#vbus;
  }
  /** VBUS present, pull-up on: the host can see the device. */
  get connected(): boolean {
    return this.#state.connected;
  }
  /** Negotiated speed since the last reset; undefined before the first reset or when detached. */
  get speed(): UsbDeviceSpeed | undefined {
    return this.#speed;
  }
  /** Device address (0 = default address). */
  get address(): number {
    return this.#state.address;
  }
  get suspended(): boolean {
    return this.#state.suspended;
  }
  /** EP0 wMaxPacketSize at the current speed. */
  get ep0MaxPacketSize(): number {
    return this.#state.ep0MaxPacket;
  }
  /** The bus time line's end, in Clock ms (for tests of the time model). */
  get busyUntilMs(): number {
    return this.#timeline.busyUntilMs;
  }

  // ------------------------------------------------------------------------------------------
  // Physical events (scenario and fault API)

  /** Plugs the cable in: VBUS on. The device connects once its class drivers are active. */
  attach(): void {
    if (this.#vbus) return;
    this.#vbus = true;
    this.#state.device?.vbusOn();
    this.#updateConnection();
  }

  /**
   * Unplugs the cable: host URBs end with ENODEV (LIBUSB_TRANSFER_NO_DEVICE), every endpoint is purged
   * (device transfers → UfxAbort 'purged'), then the function controller reports detach and the host
   * sees the disconnect (*UFX page*: purge first, then the event).
   */
  detach(): void {
    if (!this.#vbus) return;
    this.#vbus = false;
    const wasConnected = this.#state.connected;
    this.#state.connected = false;
    this.#teardown('noDevice');
    this.#speed = undefined;
    this.#state.device?.vbusOff();
    if (wasConnected) this.#host?.disconnected(this);
  }

  /** The device's pull-up: called by the function controller once every class driver is active. */
  connect(): void {
    this.#pullup = true;
    this.#updateConnection();
  }

  #updateConnection(): void {
    if (!this.#state.connected && this.#vbus && this.#pullup) {
      this.#state.connected = true;
      this.#host?.connected(this);
    }
  }

  /**
   * Port reset (USB 2.0 §7.1.7.5) at the best speed both ends support. Host URBs in flight end with
   * LIBUSB_TRANSFER_CANCELLED (-ESHUTDOWN in the capture), every endpoint is purged, then the device
   * reports reset. Returns the negotiated speed, or undefined when nothing is connected.
   */
  resetPort(): UsbDeviceSpeed | undefined {
    const state = this.#state;
    if (!state.connected || state.device === undefined) return undefined;
    this.#teardown('reset');
    const device = state.device.maxSpeed;
    const speed = SPEED_RANK[device] < SPEED_RANK[this.portSpeed] ? device : this.portSpeed;
    this.#speed = speed;
    state.slots = SLOT_UNITS[speed];
    state.ep0MaxPacket = speed === 'super' ? 512 : 64;
    state.device.busReset(speed);
    return speed;
  }

  /**
   * Fails every URB and purges every endpoint: common part of detach and reset. Packets on the wire stop
   * now: every URB and transfer reports the bytes that had crossed by now, not what its run would have moved.
   * ASSUMPTION(link-host-reset): host URBs end CANCELLED (-ESHUTDOWN) at a reset and NO_DEVICE (-ENODEV) at
   * a detach; ASSUMPTION(link-stop-in-flight): the packet on the wire at that instant does not count.
   */
  #teardown(outcome: UrbOutcome): void {
    this.#state.address = 0;
    this.#clearSuspend();
    const now = this.#timeline.nowUnits();
    this.ep0.cutInFlight(now);
    this.endpoints.cutInFlight(now);
    this.#timeline.abortInFlight(outcome);
    this.ep0.teardown(outcome);
    for (const urb of this.#faults.held()) this.#timeline.completeNow(urb, outcome);
    this.#faults.clearHeld();
    this.endpoints.teardown(outcome);
  }

  /**
   * The host suspends the port: no new transfer starts, and once the packets already on the wire have
   * crossed the host stops sending SOFs; after 3 ms of idle bus the device is suspended (USB 2.0 §7.1.7.6)
   * and reports suspend. Transfers wait until {@link resume}.
   * ASSUMPTION(link-suspend-busy-port): a suspend asked for while packets are on the wire lets them finish
   * (a host suspends only an idle port: Linux runtime PM does not suspend a device with URBs in flight).
   */
  suspend(): void {
    if (!this.#state.connected || this.#state.suspended) return;
    this.#state.suspended = true;
    this.#armSuspend();
  }

  /** The device suspends 3 ms after the bus went idle; traffic still finishing (a control transfer's last stages) pushes it back. */
  #armSuspend(sinceMs = this.clock.now()): void {
    const now = this.clock.now();
    const busy = this.#timeline.busyUntilMs;
    const idleAt = busy > sinceMs ? busy : sinceMs;
    this.#suspendTimer = this.clock.setTimer(Math.max(0, idleAt + 3 - now), () => {
      this.#suspendTimer = undefined;
      if (!this.#state.suspended) return;
      if (this.#timeline.busyUntilMs > idleAt + 1e-9) {
        this.#armSuspend(this.#timeline.busyUntilMs);
        return;
      }
      this.#suspendNotified = true;
      this.#state.device?.busSuspended();
    });
  }

  /** Resume signalling: the device reports resume (if it had suspended) and transfers continue. */
  resume(): void {
    if (!this.#state.suspended) return;
    const notified = this.#suspendNotified;
    this.#clearSuspend();
    if (notified) this.#state.device?.busResumed();
    this.ep0.startNext();
    this.endpoints.matchAll();
  }

  #clearSuspend(): void {
    this.#state.suspended = false;
    this.#suspendNotified = false;
    this.#suspendTimer?.cancel();
    this.#suspendTimer = undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Fault hooks (bus-faults.ts)

  /** See {@link BusFaults.dropNextUrb}. */
  dropNextUrb(endpoint: number, count = 1): void {
    this.#faults.dropNextUrb(endpoint, count);
  }

  /** Calls `hook` at every URB submission, before the URB is queued. Returns the remover. */
  onUrbSubmit(hook: (info: UrbSubmitInfo) => void): () => void {
    return this.#faults.onUrbSubmit(hook);
  }

  /**
   * Unplugs (detach) when the `nth` URB matching `match` is submitted; that URB then ends with
   * LIBUSB_TRANSFER_NO_DEVICE. Returns the remover.
   */
  unplugOnUrb(match: UrbMatch, nth = 1): () => void {
    return this.#faults.atUrb(match, nth, () => this.detach());
  }

  /**
   * Calls `action` when the `nth` URB matching `match` is submitted, before that URB is queued (a fault at a
   * protocol step, e.g. the harness's port reset). Returns the remover.
   */
  atUrb(match: UrbMatch, nth: number, action: () => void): () => void {
    return this.#faults.atUrb(match, nth, action);
  }

  // ------------------------------------------------------------------------------------------
  // Host end: URBs

  /**
   * Submits a URB. It completes through `urb.completion` (possibly synchronously, e.g. ENODEV when
   * nothing is connected: a usbmon 'E' record).
   */
  submit(urb: LinkUrb): void {
    if (urb.state !== URB_STATE.NEW) {
      throw new SimulatorError('SIM_URB_REUSED', `URB ${urb.id} was already submitted; create a new HostUrb per transfer`);
    }
    urb.id = this.#nextUrbId++;
    urb.deviceAddress = this.#state.address;
    if (!this.#state.connected) {
      urb.state = URB_STATE.DONE;
      urb.outcome = 'noDevice';
      this.#tap.record(urb, 'E', URB_STATUS.noDevice, 0);
      urb.completion?.urbCompleted(urb);
      return;
    }
    urb.state = URB_STATE.QUEUED;
    this.#tap.record(urb, 'S', URB_STATUS_IN_PROGRESS, urb.length);
    if (this.#faults.hasSubmitHooks) {
      this.#faults.submitted(urb);
      if (!this.#state.connected) {
        if (urb.state === URB_STATE.QUEUED) this.#timeline.completeNow(urb, 'noDevice');
        return;
      }
    }
    const isControl = urb.transferType === 'control';
    if (this.#faults.hold(urb, isControl ? 0 : urb.endpoint)) {
      urb.state = URB_STATE.HELD;
      return;
    }
    if (isControl) this.ep0.submit(urb);
    else this.endpoints.submit(urb);
  }

  /**
   * Unlinks a URB (libusb_cancel_transfer; `timeout` when its libusb timeout expired): it ends with the
   * bytes that had crossed by now. Returns false if its bus time has elapsed (it then completes normally).
   */
  cancel(urb: LinkUrb, outcome: 'timeout' | 'cancelled'): boolean {
    if (urb.state === URB_STATE.HELD) {
      this.#faults.release(urb);
      this.#timeline.completeNow(urb, outcome);
      return true;
    }
    if (urb.state !== URB_STATE.QUEUED && urb.state !== URB_STATE.COMMITTED) return false;
    // A URB whose packets are on the wire stops now with what had crossed (packet-engine.ts, control-pipe.ts).
    return urb.transferType === 'control' ? this.ep0.cancel(urb, outcome) : this.endpoints.cancelUrb(urb, outcome);
  }

  // ------------------------------------------------------------------------------------------
  // Device end (the function controller drives {@link ep0} and {@link endpoints} directly)

  /** Halt bit, data toggle and queue depths of an endpoint (for scenarios; USB-observable state). */
  endpointState(address: number): EndpointState {
    return this.endpoints.endpointState(address);
  }

  /** SET_ADDRESS took effect (after its status stage, USB 2.0 §9.4.6). */
  setAddress(address: number): void {
    this.#state.address = address;
  }
}
