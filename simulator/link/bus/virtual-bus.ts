/**
 * The simulated USB link between the virtual host ({@link SimUsbHost}) and the function controller
 * (`simulator/ufx`): VBUS attach/detach, connect (pull-up), port reset with speed negotiation, addressing,
 * suspend/resume, endpoint pipes with the real packet rules, EP0's serial control pipe, a bus-wide time
 * line (bus-timing.ts) and the capture tap (usbmon semantics, simulator/capture/urb-event.ts).
 *
 * Data moves in as few copies as the two sides allow: when a host URB and a device transfer meet, the
 * largest run of whole packets both can take is copied at once and the packet count only advances the
 * time line and the data toggle. Completions are committed with their bus time and fired from one clock
 * timer in time order (the time line is monotonic), so a transfer costs one timer, not one per packet.
 *
 * @see USB 2.0 §5.8 (bulk), §5.5 (control), §8.5.3.2 (control data stage ends), §9.1 (device states)
 * @see reference §6.1 (D-UFX purge, stall and ZLP rules)
 */
import { type UsbDeviceSpeed, type Clock, type ClockTimer, SimulatorError, endpointIndex } from '../../../core/index.js';
import type { UrbEvent, UrbSink } from '../../capture/urb-event.js';
import type { UfxAbortReason } from '../device-end/class-driver-link.js';
import { BUS_UNITS_PER_MS, SLOT_UNITS, type SpeedSlots, busUnitsToMs, msToBusUnits } from './bus-timing.js';
import { DeviceTransfer, TRANSFER_STATE } from '../device-end/device-transfer.js';
import { Fifo } from './fifo.js';
import {
  CONTROL_PHASE,
  HostUrb,
  URB_FLAGS,
  URB_STATE,
  URB_STATUS,
  URB_STATUS_IN_PROGRESS,
  type UrbOutcome,
  type UrbTransferKind,
} from '../host-end/host-urb.js';

/** Speeds in increasing order, for negotiation. */
const SPEED_RANK: Readonly<Record<UsbDeviceSpeed, number>> = { full: 0, high: 1, super: 2 };

/** What the bus needs from the device end (implemented by the UFX model, simulator/ufx/ufx-device.ts). */
export interface BusFunctionController {
  /** The fastest speed the function controller supports. */
  readonly maxSpeed: UsbDeviceSpeed;
  /** VBUS appeared (USB 2.0 §9.1.1.1 Attached). */
  vbusOn(): void;
  /** VBUS went away. The bus has already purged every endpoint and failed the host's URBs. */
  vbusOff(): void;
  /** Port reset finished at `speed`. The bus has already purged every endpoint. */
  busReset(speed: UsbDeviceSpeed): void;
  /** No bus activity for 3 ms (USB 2.0 §7.1.7.6). */
  busSuspended(): void;
  busResumed(): void;
  /** A SETUP reached the device: answer with the bus's control* methods (now or later). */
  setup(ctl: HostUrb): void;
}

/** What the bus tells the host end (implemented by {@link SimUsbHost}). */
export interface BusHostListener {
  /** The device connected (VBUS present and pull-up on): the hub reports a connect change. */
  connected(bus: VirtualBus): void;
  /** The device went away (detach). */
  disconnected(bus: VirtualBus): void;
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

/** What a submit hook sees (fault injection: "unplug when the Nth URB of kind X is submitted"). */
export interface UrbSubmitInfo {
  readonly urb: HostUrb;
  readonly transferType: UrbTransferKind;
  readonly endpoint: number;
  /** Control only. */
  readonly bmRequestType: number;
  readonly bRequest: number;
}

/** Matches URBs for {@link VirtualBus.unplugOnUrb}. Absent fields match anything. */
export interface UrbMatch {
  readonly transferType?: UrbTransferKind | undefined;
  /** Endpoint address with direction (0x81, 0x01; control: 0x80 / 0x00). */
  readonly endpoint?: number | undefined;
  readonly bRequest?: number | undefined;
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

class EndpointPipe {
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
  readonly host = new Fifo<HostUrb>();
  readonly device = new Fifo<DeviceTransfer>();
  constructor(address: number) {
    this.address = address;
    this.isIn = (address & 0x80) !== 0;
  }
}

type Completion = HostUrb | DeviceTransfer;

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
  #sink: UrbSink | undefined;
  #device: BusFunctionController | undefined;
  #host: BusHostListener | undefined;
  #vbus = false;
  #pullup = false;
  #connected = false;
  #speed: UsbDeviceSpeed | undefined;
  #slots: SpeedSlots = SLOT_UNITS.high;
  #ep0MaxPacket = 64;
  #address = 0;
  #suspended = false;
  #suspendNotified = false;
  #suspendTimer: ClockTimer | undefined;
  /** End of the last reserved bus time (units). */
  #busyUntil = 0;
  #done: (Completion | undefined)[] = [];
  #doneHead = 0;
  #doneTimer: ClockTimer | undefined;
  readonly #fireDue = (): void => this.#fireCompletions();
  readonly #pipes: EndpointPipe[] = [];
  readonly #controlQueue = new Fifo<HostUrb>();
  #ctl: HostUrb | undefined;
  #nextUrbId = 1;
  readonly #held = new Set<HostUrb>();
  readonly #drop = new Map<number, number>();
  #submitHooks: ((info: UrbSubmitInfo) => void)[] = [];

  constructor(options: VirtualBusOptions) {
    this.clock = options.clock;
    this.busNumber = options.busNumber ?? 1;
    this.portSpeed = options.portSpeed ?? 'high';
    this.#sink = options.urbSink;
    for (let i = 0; i < 32; i++) this.#pipes.push(new EndpointPipe((i & 0x0f) | ((i & 0x10) << 3)));
  }

  // ------------------------------------------------------------------------------------------
  // Wiring and state

  /** Plugs the function controller into the device end (once). */
  plugDevice(device: BusFunctionController): void {
    if (this.#device !== undefined) {
      throw new SimulatorError('SIM_BUS_DEVICE_PRESENT', 'a function controller is already plugged into this bus; create one VirtualBus per device');
    }
    this.#device = device;
  }

  /** Sets the host end's listener (the SimUsbHost port). */
  setHostListener(listener: BusHostListener | undefined): void {
    this.#host = listener;
  }

  /** Sets or removes the capture tap. */
  setUrbSink(sink: UrbSink | undefined): void {
    this.#sink = sink;
  }

  get vbus(): boolean {
    return this.#vbus;
  }
  /** VBUS present, pull-up on: the host can see the device. */
  get connected(): boolean {
    return this.#connected;
  }
  /** Negotiated speed since the last reset; undefined before the first reset or when detached. */
  get speed(): UsbDeviceSpeed | undefined {
    return this.#speed;
  }
  /** Device address (0 = default address). */
  get address(): number {
    return this.#address;
  }
  get suspended(): boolean {
    return this.#suspended;
  }
  /** EP0 wMaxPacketSize at the current speed. */
  get ep0MaxPacketSize(): number {
    return this.#ep0MaxPacket;
  }
  /** The bus time line's end, in Clock ms (for tests of the time model). */
  get busyUntilMs(): number {
    return busUnitsToMs(this.#busyUntil);
  }
  /** The control transfer currently at the device, if any. */
  get currentControl(): HostUrb | undefined {
    return this.#ctl;
  }

  // ------------------------------------------------------------------------------------------
  // Physical events (scenario and fault API)

  /** Plugs the cable in: VBUS on. The device connects once its class drivers are active. */
  attach(): void {
    if (this.#vbus) return;
    this.#vbus = true;
    this.#device?.vbusOn();
    this.#updateConnection();
  }

  /**
   * Unplugs the cable: host URBs end with ENODEV (LIBUSB_TRANSFER_NO_DEVICE), every endpoint is purged
   * (device transfers → UfxAbort 'purged'), then the function controller reports detach and the host
   * sees the disconnect (reference §6.1: purge first, then the event).
   */
  detach(): void {
    if (!this.#vbus) return;
    this.#vbus = false;
    const wasConnected = this.#connected;
    this.#connected = false;
    this.#teardown('noDevice');
    this.#speed = undefined;
    this.#device?.vbusOff();
    if (wasConnected) this.#host?.disconnected(this);
  }

  /** The device's pull-up: called by the function controller once every class driver is active. */
  connect(): void {
    this.#pullup = true;
    this.#updateConnection();
  }

  #updateConnection(): void {
    if (!this.#connected && this.#vbus && this.#pullup) {
      this.#connected = true;
      this.#host?.connected(this);
    }
  }

  /**
   * Port reset (USB 2.0 §7.1.7.5) at the best speed both ends support. Host URBs in flight end with
   * LIBUSB_TRANSFER_CANCELLED (-ESHUTDOWN in the capture), every endpoint is purged, then the device
   * reports reset. Returns the negotiated speed, or undefined when nothing is connected.
   */
  resetPort(): UsbDeviceSpeed | undefined {
    if (!this.#connected || this.#device === undefined) return undefined;
    this.#teardown('reset');
    const device = this.#device.maxSpeed;
    const speed = SPEED_RANK[device] < SPEED_RANK[this.portSpeed] ? device : this.portSpeed;
    this.#speed = speed;
    this.#slots = SLOT_UNITS[speed];
    this.#ep0MaxPacket = speed === 'super' ? 512 : 64;
    this.#device.busReset(speed);
    return speed;
  }

  /** Fails every URB and purges every endpoint: common part of detach and reset. */
  #teardown(outcome: UrbOutcome): void {
    this.#address = 0;
    this.#clearSuspend();
    this.#abortInFlight(outcome);
    const ctl = this.#ctl;
    this.#ctl = undefined;
    if (ctl !== undefined && ctl.state === URB_STATE.QUEUED) this.#completeNow(ctl, outcome);
    for (const urb of this.#controlQueue.drain()) this.#completeNow(urb, outcome);
    for (const urb of [...this.#held]) this.#completeNow(urb, outcome);
    this.#held.clear();
    for (const p of this.#pipes) {
      for (const urb of p.host.drain()) this.#completeNow(urb, outcome);
      for (const t of p.device.drain()) t.fail('purged', outcome === 'reset' ? 'bus reset' : 'detach');
      p.active = false;
      p.halted = false;
      p.toggle = 0;
    }
  }

  /**
   * The host stops sending SOFs: after 3 ms of idle bus the device is suspended (USB 2.0 §7.1.7.6) and
   * reports suspend. Transfers wait until {@link resume}.
   */
  suspend(): void {
    if (!this.#connected || this.#suspended) return;
    this.#suspended = true;
    this.#suspendTimer = this.clock.setTimer(3, () => {
      this.#suspendTimer = undefined;
      if (!this.#suspended) return;
      this.#suspendNotified = true;
      this.#device?.busSuspended();
    });
  }

  /** Resume signalling: the device reports resume (if it had suspended) and transfers continue. */
  resume(): void {
    if (!this.#suspended) return;
    const notified = this.#suspendNotified;
    this.#clearSuspend();
    if (notified) this.#device?.busResumed();
    this.#startControl();
    for (const p of this.#pipes) if (p.active) this.#matchPipe(p);
  }

  #clearSuspend(): void {
    this.#suspended = false;
    this.#suspendNotified = false;
    this.#suspendTimer?.cancel();
    this.#suspendTimer = undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Fault hooks

  /**
   * The next `count` URBs submitted on `endpoint` (0x00/0x80 = EP0) never reach the device: they end
   * only by their timeout or a cancel (a host-side "this transfer times out" fault).
   */
  dropNextUrb(endpoint: number, count = 1): void {
    const key = (endpoint & 0x0f) === 0 ? 0 : endpoint;
    this.#drop.set(key, (this.#drop.get(key) ?? 0) + count);
  }

  /** Calls `hook` at every URB submission, before the URB is queued. Returns the remover. */
  onUrbSubmit(hook: (info: UrbSubmitInfo) => void): () => void {
    this.#submitHooks = [...this.#submitHooks, hook];
    return () => {
      this.#submitHooks = this.#submitHooks.filter((h) => h !== hook);
    };
  }

  /**
   * Unplugs (detach) when the `nth` URB matching `match` is submitted; that URB then ends with
   * LIBUSB_TRANSFER_NO_DEVICE. Returns the remover.
   */
  unplugOnUrb(match: UrbMatch, nth = 1): () => void {
    let seen = 0;
    const remove = this.onUrbSubmit((info) => {
      if (match.transferType !== undefined && match.transferType !== info.transferType) return;
      if (match.endpoint !== undefined && match.endpoint !== info.endpoint) return;
      if (match.bRequest !== undefined && (info.transferType !== 'control' || match.bRequest !== info.bRequest)) return;
      if (++seen === nth) {
        remove();
        this.detach();
      }
    });
    return remove;
  }

  // ------------------------------------------------------------------------------------------
  // Host end: URBs

  /**
   * Submits a URB. It completes through `urb.completion` or `urb.onComplete` (possibly synchronously, e.g. ENODEV when
   * nothing is connected: a usbmon 'E' record).
   */
  submit(urb: HostUrb): void {
    if (urb.state !== URB_STATE.NEW) {
      throw new SimulatorError('SIM_URB_REUSED', `URB ${urb.id} was already submitted; create a new HostUrb per transfer`);
    }
    urb.id = this.#nextUrbId++;
    urb.deviceAddress = this.#address;
    if (!this.#connected) {
      urb.state = URB_STATE.DONE;
      urb.outcome = 'noDevice';
      this.#emit(urb, 'E', URB_STATUS.noDevice, 0);
      this.#notify(urb);
      return;
    }
    urb.state = URB_STATE.QUEUED;
    this.#emit(urb, 'S', URB_STATUS_IN_PROGRESS, urb.length);
    if (this.#submitHooks.length > 0) {
      const info: UrbSubmitInfo = {
        urb,
        transferType: urb.transferType,
        endpoint: urb.endpoint,
        bmRequestType: urb.bmRequestType,
        bRequest: urb.bRequest,
      };
      for (const hook of this.#submitHooks) hook(info);
      if (!this.#connected) {
        if (urb.state === URB_STATE.QUEUED) this.#completeNow(urb, 'noDevice');
        return;
      }
    }
    const isControl = urb.transferType === 'control';
    const dropKey = isControl ? 0 : urb.endpoint;
    const drops = this.#drop.get(dropKey);
    if (drops !== undefined) {
      if (drops <= 1) this.#drop.delete(dropKey);
      else this.#drop.set(dropKey, drops - 1);
      urb.state = URB_STATE.HELD;
      this.#held.add(urb);
      return;
    }
    if (isControl) {
      this.#controlQueue.push(urb);
      this.#startControl();
      return;
    }
    const pipe = this.#pipes[endpointIndex(urb.endpoint)]!;
    pipe.host.push(urb);
    this.#matchPipe(pipe);
  }

  /**
   * Unlinks a URB (libusb_cancel_transfer; `timeout` when its libusb timeout expired). Returns false if
   * its outcome was already decided (it then completes normally).
   */
  cancel(urb: HostUrb, outcome: 'timeout' | 'cancelled'): boolean {
    if (urb.state === URB_STATE.HELD) {
      this.#held.delete(urb);
      this.#completeNow(urb, outcome);
      return true;
    }
    if (urb.state !== URB_STATE.QUEUED) return false;
    if (urb.transferType === 'control') {
      if (this.#ctl === urb) {
        // ASSUMPTION (reference §6.2, not documented): the function's EP0 requests for an abandoned
        // setup end with UfxAbort 'purged' (STATUS_CANCELLED); UFX starts on the next SETUP.
        urb.phase = CONTROL_PHASE.ABANDONED;
        this.#ctl = undefined;
        this.#completeNow(urb, outcome);
        this.#startControl();
        return true;
      }
      this.#controlQueue.remove(urb);
    } else {
      this.#pipes[endpointIndex(urb.endpoint)]!.host.remove(urb);
    }
    this.#completeNow(urb, outcome);
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // Device end: endpoints

  /** Makes an endpoint part of the active configuration (DATA0, not halted) at the current speed. */
  configureEndpoint(address: number, config: PipeConfig): void {
    const p = this.#pipe(address);
    p.active = true;
    p.type = config.type;
    p.maxPacketSize = config.maxPacketSize;
    p.interval = config.bInterval ?? 0;
    p.slot = this.#slots.bulk;
    p.halted = false;
    p.toggle = 0;
    this.#matchPipe(p);
  }

  /** Removes an endpoint from the configuration; its device transfers end with UfxAbort `reason`. */
  deconfigureEndpoint(address: number, reason: UfxAbortReason = 'purged'): void {
    const p = this.#pipe(address);
    for (const t of p.device.drain()) t.fail(reason, 'endpoint deconfigured');
    p.active = false;
    p.halted = false;
    p.toggle = 0;
  }

  /** Ends every device transfer queued on `address` with UfxAbort 'purged' (reference §6.1). */
  purgeEndpoint(address: number): void {
    for (const t of this.#pipe(address).device.drain()) t.fail('purged');
  }

  /** Queues a device transfer; it moves as soon as the host asks (or already waits). */
  queueDeviceTransfer(address: number, transfer: DeviceTransfer): void {
    const p = this.#pipe(address);
    transfer.queue = p.device;
    p.device.push(transfer);
    this.#matchPipe(p);
  }

  /**
   * Halts or un-halts an endpoint (SET_PIPE_STATE, SET/CLEAR_FEATURE(ENDPOINT_HALT)). Halting stalls the
   * host's URBs on it and holds the device's transfers (D-UFX); clearing resets the toggle to DATA0 on
   * both sides (USB 2.0 §9.4.5) — also when it was not halted — and lets held transfers move.
   */
  setEndpointHalt(address: number, halted: boolean): void {
    const p = this.#pipe(address);
    p.halted = halted;
    if (!halted) p.toggle = 0;
    this.#matchPipe(p);
  }

  /** Resets the data toggle to DATA0 (SET_CONFIGURATION / SET_INTERFACE, USB 2.0 §9.1.1.5, §9.4.10). */
  resetToggle(address: number): void {
    this.#pipe(address).toggle = 0;
  }

  isEndpointHalted(address: number): boolean {
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

  /** SET_ADDRESS took effect (after its status stage, USB 2.0 §9.4.6). */
  setAddress(address: number): void {
    this.#address = address;
  }

  #pipe(address: number): EndpointPipe {
    if ((address & 0x0f) === 0 || (address & 0x70) !== 0) {
      throw new SimulatorError('SIM_BAD_ENDPOINT', `0x${address.toString(16)} is not a non-control endpoint address (0x01–0x0F, 0x81–0x8F)`);
    }
    return this.#pipes[endpointIndex(address)]!;
  }

  // ------------------------------------------------------------------------------------------
  // Device end: EP0 (the function controller answers the current control transfer)

  /**
   * Completes the current control transfer as answered by the controller itself (standard requests):
   * IN: `data` truncated to wLength; OUT/no-data: acknowledged. Costs data packets + status stage.
   */
  controlReply(ctl: HostUrb, data?: Uint8Array): void {
    if (!this.#isCurrent(ctl, CONTROL_PHASE.AT_DEVICE)) return;
    let packets = 1; // status stage
    if (ctl.isIn) {
      const n = Math.min(data?.length ?? 0, ctl.length);
      if (n > 0) ctl.buffer.set(n === data!.length ? data! : data!.subarray(0, n));
      ctl.actual = n;
      packets += this.#inDataPackets(n, ctl.length);
    } else if (ctl.length > 0) {
      ctl.actual = ctl.length;
      packets += Math.ceil(ctl.length / this.#ep0MaxPacket);
    }
    ctl.phase = CONTROL_PHASE.FINISHED;
    this.#commitHost(ctl, 'ok', this.#reserve(packets * this.#slots.control));
  }

  /** STALLs the current control transfer (the stall ends at the next SETUP, USB 2.0 §8.5.3.4). */
  controlStall(ctl: HostUrb): void {
    if (!this.#isCurrent(ctl, CONTROL_PHASE.AT_DEVICE) && !this.#isCurrent(ctl, CONTROL_PHASE.STATUS)) return;
    ctl.phase = CONTROL_PHASE.FINISHED;
    this.#commitHost(ctl, 'stall', this.#reserve(this.#slots.control));
  }

  /**
   * Data stage device→host for the current control transfer (a class driver's TRANSFER_IN on pipe 0).
   * The host gets at most wLength bytes; a shorter answer ends with a short packet, or a ZLP when it is
   * an exact multiple of EP0's wMaxPacketSize (USB 2.0 §8.5.3.2).
   * ASSUMPTION (not documented): an answer longer than wLength is truncated and the transfer completes
   * with the bytes the host took.
   */
  controlDataIn(ctl: HostUrb, t: DeviceTransfer): void {
    if (!this.#checkStage(ctl, t, CONTROL_PHASE.AT_DEVICE, true)) return;
    const n = Math.min(t.length, ctl.length);
    if (n > 0) ctl.buffer.set(n === t.length ? t.data : t.data.subarray(0, n));
    ctl.actual = n;
    t.offset = n;
    ctl.phase = CONTROL_PHASE.STATUS;
    this.#commitDevice(t, this.#reserve(this.#inDataPackets(n, ctl.length) * this.#slots.control));
  }

  /**
   * Data stage host→device into `t` (a class driver's TRANSFER_OUT on pipe 0): wLength bytes arrive.
   * ASSUMPTION (reference §6.2): a buffer smaller than wLength takes what fits and ends with UfxAbort 'overflow'.
   */
  controlDataOut(ctl: HostUrb, t: DeviceTransfer): void {
    if (!this.#checkStage(ctl, t, CONTROL_PHASE.AT_DEVICE, false)) return;
    const n = Math.min(t.length, ctl.length);
    if (n > 0) t.data.set(n === ctl.length ? ctl.buffer : ctl.buffer.subarray(0, n));
    t.offset = n;
    ctl.actual = ctl.length;
    if (t.length < ctl.length) {
      t.abortReason = 'overflow';
      t.abortDetail = `wLength ${ctl.length} > buffer ${t.length}`;
    }
    ctl.phase = CONTROL_PHASE.STATUS;
    this.#commitDevice(t, this.#reserve(Math.ceil(ctl.length / this.#ep0MaxPacket) * this.#slots.control));
  }

  /**
   * Status stage (CONTROL_STATUS_HANDSHAKE_IN/OUT): completes the control transfer.
   * With a data stage the handshake must go the opposite way (D-OV); without one either direction is
   * accepted (reference §6.2: the header and USB 2.0 disagree).
   */
  controlHandshake(ctl: HostUrb, t: DeviceTransfer, direction: 'in' | 'out'): void {
    if (ctl.phase === CONTROL_PHASE.ABANDONED || ctl.state !== URB_STATE.QUEUED || this.#ctl !== ctl) {
      t.fail('purged', 'the host abandoned this control transfer (timeout, cancel, reset or detach)');
      return;
    }
    if (ctl.phase === CONTROL_PHASE.AT_DEVICE && ctl.length > 0) {
      t.fail('invalidParameter', `the request has a ${ctl.length}-byte data stage: send TRANSFER_${ctl.isIn ? 'IN' : 'OUT'} on pipe 0 before the handshake`);
      return;
    }
    if (ctl.phase === CONTROL_PHASE.STATUS) {
      const expected = ctl.isIn ? 'out' : 'in';
      if (direction !== expected) {
        t.fail('invalidParameter', `after a ${ctl.isIn ? 'device→host' : 'host→device'} data stage the handshake is ${expected.toUpperCase()} (D-OV)`);
        return;
      }
    }
    const at = this.#reserve(this.#slots.control);
    ctl.phase = CONTROL_PHASE.FINISHED;
    this.#commitDevice(t, at);
    this.#commitHost(ctl, 'ok', at);
  }

  #isCurrent(ctl: HostUrb, phase: number): boolean {
    return this.#ctl === ctl && ctl.state === URB_STATE.QUEUED && ctl.phase === phase;
  }

  #checkStage(ctl: HostUrb, t: DeviceTransfer, phase: number, wantIn: boolean): boolean {
    if (this.#ctl !== ctl || ctl.state !== URB_STATE.QUEUED || ctl.phase === CONTROL_PHASE.ABANDONED) {
      t.fail('purged', 'the host abandoned this control transfer (timeout, cancel, reset or detach)');
      return false;
    }
    if (ctl.phase !== phase) {
      t.fail('invalidState', 'the data stage of this control transfer is already done: send the handshake');
      return false;
    }
    if (ctl.isIn !== wantIn || ctl.length === 0) {
      t.fail(
        'invalidParameter',
        ctl.length === 0
          ? 'the request has no data stage (wLength 0): answer with the handshake only'
          : `the request's data stage is ${ctl.isIn ? 'device→host: use TRANSFER_IN' : 'host→device: use TRANSFER_OUT'} on pipe 0`,
      );
      return false;
    }
    return true;
  }

  /** Packets of a control IN data stage carrying n of wLength bytes (USB 2.0 §8.5.3.2). */
  #inDataPackets(n: number, wLength: number): number {
    if (wLength === 0) return 0;
    if (n === 0) return 1;
    const mps = this.#ep0MaxPacket;
    return Math.ceil(n / mps) + (n < wLength && n % mps === 0 ? 1 : 0);
  }

  #startControl(): void {
    if (this.#ctl !== undefined || this.#suspended || !this.#connected) return;
    const urb = this.#controlQueue.shift();
    if (urb === undefined) return;
    this.#ctl = urb;
    urb.phase = CONTROL_PHASE.AT_DEVICE;
    this.#reserve(this.#slots.control); // SETUP stage
    if (this.#device === undefined) {
      this.controlStall(urb);
      return;
    }
    this.#device.setup(urb);
  }

  // ------------------------------------------------------------------------------------------
  // Packet engine

  #matchPipe(p: EndpointPipe): void {
    if (!p.active || !this.#connected || this.#suspended) return;
    if (p.halted) {
      // A halted endpoint answers every token with STALL (one slot each); device transfers are held.
      for (let urb = p.host.shift(); urb !== undefined; urb = p.host.shift()) {
        this.#commitHost(urb, 'stall', this.#reserve(p.slot));
      }
      return;
    }
    if (p.host.size === 0 || p.device.size === 0) return;
    if (p.isIn) this.#matchIn(p);
    else this.#matchOut(p);
  }

  /** Ends `packets` packets on `p`: advances the toggle and the time line; returns the end time. */
  #spend(p: EndpointPipe, packets: number): number {
    if (packets & 1) p.toggle = p.toggle === 0 ? 1 : 0;
    return this.#reserve(packets * p.slot);
  }

  /** Device → host. Host URBs end on a short packet, a ZLP, or when full (USB 2.0 §5.8.3). */
  #matchIn(p: EndpointPipe): void {
    const mps = p.maxPacketSize;
    for (;;) {
      const urb = p.host.peek();
      const req = p.device.peek();
      if (urb === undefined || req === undefined) return;
      let hostRem = urb.length - urb.actual;
      let devRem = req.length - req.offset;
      let packets = 0;
      if (devRem >= mps && hostRem >= mps) {
        const k = Math.min(Math.floor(devRem / mps), Math.floor(hostRem / mps));
        const n = k * mps;
        urb.buffer.set(req.data.subarray(req.offset, req.offset + n), urb.actual);
        urb.actual += n;
        req.offset += n;
        hostRem -= n;
        devRem -= n;
        packets = k;
      }
      if (hostRem === 0) {
        const at = this.#spend(p, packets);
        p.host.shift();
        this.#commitHost(urb, 'ok', at);
        if (devRem === 0 && !req.needsZlp(mps)) {
          p.device.shift();
          this.#commitDevice(req, at);
        }
        continue;
      }
      if (devRem === 0) {
        if (req.needsZlp(mps)) {
          // The zero-length packet ends the host URB short.
          req.zlpDone = true;
          const at = this.#spend(p, packets + 1);
          p.host.shift();
          p.device.shift();
          this.#commitHost(urb, 'ok', at);
          this.#commitDevice(req, at);
        } else {
          // The device transfer ended on a whole packet: the host URB waits for more.
          const at = this.#spend(p, packets);
          p.device.shift();
          this.#commitDevice(req, at);
        }
        continue;
      }
      // One more packet: a short one (devRem < mps), or a full one that does not fit (hostRem < mps).
      const pkt = devRem < mps ? devRem : mps;
      if (pkt <= hostRem) {
        urb.buffer.set(req.data.subarray(req.offset, req.offset + pkt), urb.actual);
        urb.actual += pkt;
        req.offset += pkt;
        const at = this.#spend(p, packets + 1);
        p.host.shift();
        p.device.shift();
        this.#commitHost(urb, 'ok', at);
        this.#commitDevice(req, at);
        continue;
      }
      // Babble: the packet is larger than the space left in the URB (USB 2.0 §8.4.4 / -EOVERFLOW).
      // ASSUMPTION (not documented for UFX): the device controller got its ACK, so the whole packet
      // counts as sent; its transfer goes on with the next packet for the next URB. The host keeps
      // the bytes that fit.
      urb.buffer.set(req.data.subarray(req.offset, req.offset + hostRem), urb.actual);
      urb.actual += hostRem;
      req.offset += pkt;
      const at = this.#spend(p, packets + 1);
      p.host.shift();
      this.#commitHost(urb, 'babble', at);
      if (req.offset === req.length && !req.needsZlp(mps)) {
        p.device.shift();
        this.#commitDevice(req, at);
      }
    }
  }

  /** Host → device. Device buffers end on a short packet, a ZLP, or when full. */
  #matchOut(p: EndpointPipe): void {
    const mps = p.maxPacketSize;
    for (;;) {
      const urb = p.host.peek();
      const req = p.device.peek();
      if (urb === undefined || req === undefined) return;
      let hostRem = urb.length - urb.actual;
      let devRem = req.length - req.offset;
      let packets = 0;
      if (hostRem >= mps && devRem >= mps) {
        const k = Math.min(Math.floor(hostRem / mps), Math.floor(devRem / mps));
        const n = k * mps;
        req.data.set(urb.buffer.subarray(urb.actual, urb.actual + n), req.offset);
        urb.actual += n;
        req.offset += n;
        hostRem -= n;
        devRem -= n;
        packets = k;
      }
      if (hostRem === 0 && !urb.needsZlp(mps)) {
        const at = this.#spend(p, packets);
        p.host.shift();
        this.#commitHost(urb, 'ok', at);
        if (devRem === 0) {
          p.device.shift();
          this.#commitDevice(req, at);
        }
        continue;
      }
      if (devRem === 0) {
        // Buffer full: the transfer completes; the host's next packet goes to the next buffer.
        const at = this.#spend(p, packets);
        p.device.shift();
        this.#commitDevice(req, at);
        continue;
      }
      if (hostRem === 0) {
        // Zero-length packet (URB_ZERO_PACKET on an exact multiple, or a 0-byte URB).
        urb.zlpDone = true;
        const at = this.#spend(p, packets + 1);
        p.host.shift();
        p.device.shift();
        this.#commitHost(urb, 'ok', at);
        this.#commitDevice(req, at);
        continue;
      }
      const pkt = hostRem < mps ? hostRem : mps;
      if (pkt <= devRem) {
        // A short packet ends the device transfer; it is the URB's last packet.
        req.data.set(urb.buffer.subarray(urb.actual, urb.actual + pkt), req.offset);
        urb.actual += pkt;
        req.offset += pkt;
        const at = this.#spend(p, packets + 1);
        p.host.shift();
        p.device.shift();
        this.#commitHost(urb, 'ok', at);
        this.#commitDevice(req, at);
        continue;
      }
      // ASSUMPTION (reference §6.2: "host sending more than the buffer → undefined"): the controller
      // ACKs the packet, stores what fits and ends the transfer with UfxAbort 'overflow'
      // (STATUS_BUFFER_OVERFLOW); the rest of that packet is lost and the host URB goes on.
      req.data.set(urb.buffer.subarray(urb.actual, urb.actual + devRem), req.offset);
      req.offset += devRem;
      urb.actual += pkt;
      req.abortReason = 'overflow';
      req.abortDetail = `a ${pkt}-byte packet arrived with ${devRem} bytes left in the buffer`;
      const at = this.#spend(p, packets + 1);
      p.device.shift();
      this.#commitDevice(req, at);
      if (urb.actual === urb.length && !urb.needsZlp(mps)) {
        p.host.shift();
        this.#commitHost(urb, 'ok', at);
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Time line and completions

  #nowUnits(): number {
    return msToBusUnits(this.clock.now());
  }

  /** Reserves `units` of bus time after everything already reserved; returns its end. */
  #reserve(units: number): number {
    const now = this.#nowUnits();
    const start = this.#busyUntil > now ? this.#busyUntil : now;
    this.#busyUntil = start + units;
    return this.#busyUntil;
  }

  #commitHost(urb: HostUrb, outcome: UrbOutcome, at: number): void {
    urb.state = URB_STATE.COMMITTED;
    urb.outcome = outcome;
    urb.at = at;
    this.#pushDone(urb);
  }

  #commitDevice(t: DeviceTransfer, at: number): void {
    t.state = TRANSFER_STATE.COMMITTED;
    t.queue = undefined;
    t.at = at;
    this.#pushDone(t);
  }

  #pushDone(c: Completion): void {
    this.#done.push(c);
    if (this.#doneTimer === undefined) this.#armDone();
  }

  #armDone(): void {
    const head = this.#done[this.#doneHead];
    if (head === undefined) return;
    const delayMs = (head.at - this.#nowUnits()) / BUS_UNITS_PER_MS;
    this.#doneTimer = this.clock.setTimer(delayMs > 0 ? delayMs : 0, this.#fireDue);
  }

  #fireCompletions(): void {
    this.#doneTimer = undefined;
    const now = this.#nowUnits() + 0.001;
    // Re-read #done each turn: a completion callback may detach/reset, which replaces the queue.
    for (;;) {
      const q = this.#done;
      const c = q[this.#doneHead];
      if (c === undefined || c.at > now) break;
      q[this.#doneHead++] = undefined;
      this.#fire(c);
    }
    const q = this.#done;
    if (this.#doneHead >= q.length) {
      q.length = 0;
      this.#doneHead = 0;
    } else if (this.#doneHead > 1024) {
      this.#done = q.slice(this.#doneHead);
      this.#doneHead = 0;
    }
    if (this.#doneTimer === undefined) this.#armDone();
  }

  #fire(c: Completion): void {
    if (c instanceof DeviceTransfer) {
      c.settle();
      return;
    }
    if (c.state !== URB_STATE.COMMITTED) return;
    this.#finish(c);
    if (c.transferType === 'control' && this.#ctl === c) {
      this.#ctl = undefined;
      this.#startControl();
    }
  }

  /** Fires everything committed but not yet due, as `outcome` (host) / 'purged' (device). */
  #abortInFlight(outcome: UrbOutcome): void {
    const q = this.#done;
    const head = this.#doneHead;
    this.#done = [];
    this.#doneHead = 0;
    this.#doneTimer?.cancel();
    this.#doneTimer = undefined;
    // Traffic scheduled after now never happened.
    this.#busyUntil = this.#nowUnits();
    for (let i = head; i < q.length; i++) {
      const c = q[i]!;
      if (c instanceof DeviceTransfer) {
        if (c.state === TRANSFER_STATE.COMMITTED) c.fail('purged', outcome === 'reset' ? 'bus reset' : 'detach');
      } else if (c.state === URB_STATE.COMMITTED) {
        c.outcome = outcome;
        this.#finish(c);
      }
    }
  }

  #completeNow(urb: HostUrb, outcome: UrbOutcome): void {
    urb.outcome = outcome;
    this.#finish(urb);
  }

  #finish(urb: HostUrb): void {
    urb.state = URB_STATE.DONE;
    this.#emit(urb, 'C', URB_STATUS[urb.outcome], urb.actual);
    this.#notify(urb);
  }

  #notify(urb: HostUrb): void {
    if (urb.completion !== undefined) urb.completion.urbCompleted(urb);
    else urb.onComplete?.(urb);
  }

  #emit(urb: HostUrb, kind: 'S' | 'C' | 'E', status: number, length: number): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    const isIn = urb.isIn;
    const isControl = urb.transferType === 'control';
    let data: Uint8Array | undefined;
    if (kind === 'S' && !isIn && urb.length > 0) data = urb.buffer.subarray(0, urb.length);
    else if (kind === 'C' && isIn && length > 0) data = urb.buffer.subarray(0, length);
    const event: UrbEvent = {
      urbId: urb.id,
      kind,
      transferType: urb.transferType,
      endpoint: isControl ? (isIn ? 0x80 : 0x00) : urb.endpoint,
      deviceAddress: urb.deviceAddress,
      busNumber: this.busNumber,
      timeUs: this.clock.now() * 1000,
      status,
      length,
      setup: kind === 'S' || kind === 'E' ? urb.setup : undefined,
      data,
      transferFlags: (isIn ? URB_FLAGS.URB_DIR_IN : 0) | (urb.zeroPacket ? URB_FLAGS.URB_ZERO_PACKET : 0),
      interval: urb.transferType === 'interrupt' ? this.#pipes[endpointIndex(urb.endpoint)]!.interval : undefined,
    };
    sink.record(event);
  }
}
