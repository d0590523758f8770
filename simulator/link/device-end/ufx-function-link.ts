/**
 * The {@link UfxClassDriverLink} of one function (one interface of the current configuration): what the
 * GenericUSBFn model (simulator/usbfn) drives. Bus events arrive asynchronously and in order; endpoint
 * requests go down to the bus's pipes.
 *
 * @see docs/reference/documented-vs-inferred.md#link (*UFX page*, *Service page*), class-driver-link.ts
 */
import { type UsbDeviceSpeed, SimulatorError, hex } from '../../../core/index.js';
import { DeviceTransfer } from './device-transfer.js';
import type { VirtualBus } from '../bus/index.js';
import type { UsbFnRegistryConfig } from '../../config/index.js';
import type { LinkUrb, UfxRequest } from '../link-contract.js';
import type { UfxBusEvent, UfxClassDriverLink } from './class-driver-link.js';
import { queueJob } from '../../runtime/index.js';

/** What the link needs from its function controller (implemented by UfxDevice). */
export interface UfxLinkHost {
  readonly bus: VirtualBus;
  readonly speed: UsbDeviceSpeed | undefined;
  readonly configured: boolean;
  /** Interface number owning `address` in the active configuration/alternate, or undefined. */
  endpointOwner(address: number): number | undefined;
  /** A class driver activated (ACTIVATE_USB_BUS). */
  linkActivated(): void;
  /** REGISTER_USB_STRING */
  registerString(stringIndex: number, value: string): void;
}

export class UfxFunctionLink implements UfxClassDriverLink {
  readonly config: UsbFnRegistryConfig;
  readonly interfaceNumber: number;
  /** The InterfaceList entry (GET_CLASS_INFO's InterfaceName). */
  readonly interfaceName: string;
  /** Braced device-interface class GUID (InterfaceGUID). */
  readonly interfaceGuid: string;
  readonly #host: UfxLinkHost;
  #listener: ((event: UfxBusEvent) => void) | undefined;
  #events: UfxBusEvent[] = [];
  #flushScheduled = false;
  #active = false;
  /** The class setup currently handed to this function. */
  #setup: LinkUrb | undefined;
  readonly #flush = (): void => this.#deliver();

  constructor(host: UfxLinkHost, config: UsbFnRegistryConfig, interfaceNumber: number, interfaceName: string, interfaceGuid: string) {
    this.#host = host;
    this.config = config;
    this.interfaceNumber = interfaceNumber;
    this.interfaceName = interfaceName;
    this.interfaceGuid = interfaceGuid;
  }

  get speed(): UsbDeviceSpeed | undefined {
    return this.#host.speed;
  }
  get configured(): boolean {
    return this.#host.configured;
  }
  /** True once {@link activate} was called. */
  get active(): boolean {
    return this.#active;
  }

  setEventListener(listener: (event: UfxBusEvent) => void): void {
    this.#listener = listener;
    this.#schedule();
  }

  activate(): void {
    if (this.#active) return;
    this.#active = true;
    this.#host.linkActivated();
  }

  controlDataIn(data: Uint8Array): UfxRequest<number> {
    const t = new DeviceTransfer(data);
    const ctl = this.#currentSetup(t);
    if (ctl !== undefined) this.#host.bus.ep0.dataIn(ctl, t);
    return t;
  }

  controlDataOut(buffer: Uint8Array): UfxRequest<number> {
    const t = new DeviceTransfer(buffer);
    const ctl = this.#currentSetup(t);
    if (ctl !== undefined) this.#host.bus.ep0.dataOut(ctl, t);
    return t;
  }

  controlHandshake(direction: 'in' | 'out'): UfxRequest<number> {
    const t = new DeviceTransfer(new Uint8Array(0));
    const ctl = this.#currentSetup(t);
    if (ctl !== undefined) this.#host.bus.ep0.handshake(ctl, t, direction);
    return t;
  }

  stallControl(): void {
    const ctl = this.#setup;
    if (ctl !== undefined) this.#host.bus.ep0.stall(ctl);
  }

  transferIn(endpointAddress: number, data: Uint8Array, appendZeroLengthPacket: boolean): UfxRequest<number> {
    if ((endpointAddress & 0x0f) === 0) return this.controlDataIn(data);
    const t = new DeviceTransfer(data, appendZeroLengthPacket);
    if (this.#checkEndpoint(t, endpointAddress, true)) this.#host.bus.endpoints.queue(endpointAddress, t);
    return t;
  }

  transferOut(endpointAddress: number, buffer: Uint8Array): UfxRequest<number> {
    if ((endpointAddress & 0x0f) === 0) return this.controlDataOut(buffer);
    const t = new DeviceTransfer(buffer);
    if (this.#checkEndpoint(t, endpointAddress, false)) this.#host.bus.endpoints.queue(endpointAddress, t);
    return t;
  }

  /**
   * SET_PIPE_STATE. On EP0 a halt stalls the current control transfer only (*UFX page*); clearing it is a no-op.
   * @throws SimulatorError SIM_UFX_ENDPOINT for an endpoint that is not this function's in the active
   * configuration (the GenericUSBFn model checks the pipe and the Configured state first).
   */
  setEndpointHalt(endpointAddress: number, halted: boolean): void {
    if ((endpointAddress & 0x0f) === 0) {
      if (halted) this.stallControl();
      return;
    }
    this.#requireOwn(endpointAddress);
    this.#host.bus.endpoints.setHalt(endpointAddress, halted);
  }

  isEndpointHalted(endpointAddress: number): boolean {
    if ((endpointAddress & 0x0f) === 0) return false;
    this.#requireOwn(endpointAddress);
    return this.#host.bus.endpoints.isHalted(endpointAddress);
  }

  /** REGISTER_USB_STRING: adds or replaces a string descriptor the host can read. */
  registerString(stringIndex: number, value: string): void {
    this.#host.registerString(stringIndex, value);
  }

  // ---------------------------------------------------------------------------------------------
  // Called by UfxDevice

  /** Queues a bus event for the class driver (delivered asynchronously, in order). */
  post(event: UfxBusEvent): void {
    this.#events.push(event);
    this.#schedule();
  }

  /** Hands a class setup packet to this function (UsbfnEventSetupPacket). */
  deliverSetup(ctl: LinkUrb): void {
    this.#setup = ctl;
    this.post({ type: 'setupPacket', setup: ctl.setup!.slice() });
  }

  #schedule(): void {
    if (this.#flushScheduled || this.#listener === undefined || this.#events.length === 0) return;
    this.#flushScheduled = true;
    queueJob(this.#flush);
  }

  #deliver(): void {
    this.#flushScheduled = false;
    const listener = this.#listener;
    if (listener === undefined) return;
    const events = this.#events;
    this.#events = [];
    let failure: unknown;
    for (const e of events) {
      try {
        listener(e);
      } catch (err) {
        failure ??= err;
      }
    }
    // A throwing listener is a bug in the class-driver model: surface it, after delivering the rest.
    if (failure !== undefined) throw failure;
  }

  #currentSetup(t: DeviceTransfer): LinkUrb | undefined {
    const ctl = this.#setup;
    if (ctl === undefined) {
      // ASSUMPTION(link-ep0-misuse): EP0 is usable once connected, but replies follow a setup packet; an EP0
      // request with no class setup pending for this function ends with STATUS_INVALID_DEVICE_STATE.
      t.fail('invalidState', `no setup packet is pending for interface ${this.interfaceNumber}: answer only UsbfnEventSetupPacket`);
      return undefined;
    }
    return ctl;
  }

  #checkEndpoint(t: DeviceTransfer, address: number, wantIn: boolean): boolean {
    if (!this.#host.configured) {
      // ASSUMPTION(link-transfers-before-configured): transfers before UsbfnEventConfigured (or after a purge, before the
      // next Configured) → STATUS_INVALID_DEVICE_STATE (WDF purged-queue rule).
      t.fail('invalidState', `endpoint ${hex(address)}: the device is not configured (wait for UsbfnEventConfigured)`);
      return false;
    }
    const owner = this.#host.endpointOwner(address);
    if (owner !== this.interfaceNumber) {
      t.fail(
        'invalidParameter',
        owner === undefined
          ? `endpoint ${hex(address)} is not in the active configuration/alternate setting`
          : `endpoint ${hex(address)} belongs to interface ${owner}, not ${this.interfaceNumber}`,
      );
      return false;
    }
    if (((address & 0x80) !== 0) !== wantIn) {
      t.fail('invalidParameter', `endpoint ${hex(address)} is ${address & 0x80 ? 'IN' : 'OUT'}: use TRANSFER_${address & 0x80 ? 'IN' : 'OUT'}`);
      return false;
    }
    return true;
  }

  #requireOwn(address: number): void {
    const owner = this.#host.endpointOwner(address);
    if (owner !== this.interfaceNumber) {
      throw new SimulatorError(
        'SIM_UFX_ENDPOINT',
        `endpoint ${hex(address)} is not an endpoint of interface ${this.interfaceNumber} in the active configuration; check the pipe and that the device is configured`,
      );
    }
  }
}
