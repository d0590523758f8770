/**
 * The function controller + USB function class extension (UFX) model: the device end of the simulated
 * link. UFX answers chapter-9 standard requests itself, forwards class requests addressed to an
 * interface to that function's class driver (GenericUSBFn) as UsbfnEventSetupPacket, stalls everything
 * else (recorded in {@link UfxDevice.unhandled}), purges endpoint queues on reset/detach/unconfigure and
 * then reports the event (*UFX page*).
 *
 * Defaults are handlers; scenarios prepend overrides with {@link UfxDevice.use} (docs/architecture.md#faults-as-overrides).
 *
 * @see USB 2.0 §9.1 (device states), §9.4 (standard requests)
 * @see docs/reference/documented-vs-inferred.md#link (*UFX page*, *Service page*; the inferred rules by id)
 * @example
 * const bus = new VirtualBus({ clock });
 * const ufx = new UfxDevice(bus, loopbackFunctionConfig(), { maxSpeed: 'high' });
 * const link = ufx.link(0); // the GenericUSBFn model (or a fake class driver) drives it
 */
import { type UsbDeviceSpeed, SimulatorError, UsageError, USB_DT, USB_REQUEST, USB_FEATURE, hex } from '../../../core/index.js';
import type { BusFunctionController, EndpointState, VirtualBus } from '../bus/index.js';
import {
  type DescriptorTable,
  type ResolvedConfiguration,
  type ResolvedInterface,
  alternateEndpoints,
  buildDescriptorTable,
  resolveConfiguration,
  stringDescriptor,
  type UsbFnRegistryConfig,
} from '../../config/index.js';
import type { LinkUrb } from '../link-contract.js';
import type { UfxBusEvent } from './class-driver-link.js';
import { type UfxLinkHost, UfxFunctionLink } from './ufx-function-link.js';

/** USB 2.0 §9.1 visible device states (USBFN_DEVICE_STATE without the prefix; suspend is a flag). */
export type UfxDeviceState = 'detached' | 'attached' | 'default' | 'addressed' | 'configured';

/** The eight SETUP fields, for handlers and the unhandled list. */
export interface SetupFields {
  readonly bmRequestType: number;
  readonly bRequest: number;
  readonly wValue: number;
  readonly wIndex: number;
  readonly wLength: number;
}

/** A control request UFX stalled because nothing handles it (docs/architecture.md#faults-as-overrides). */
export interface UnhandledRequest extends SetupFields {
  /** Virtual time (ms) it arrived. */
  readonly timeMs: number;
  /** Why it was not handled, e.g. `vendor request` or `no interface 3`. */
  readonly reason: string;
}

/** What an override answers. `undefined` from a handler = not mine, fall through to the defaults. */
export type ControlReply = { readonly stall: true } | { readonly data: Uint8Array } | { readonly ack: true };
/** An override for control requests, tried before the defaults (newest first). */
export type ControlHandler = (setup: SetupFields) => ControlReply | undefined;

export interface UfxDeviceOptions {
  /** Fastest speed of the function controller. Default 'high'. */
  readonly maxSpeed?: UsbDeviceSpeed | undefined;
  /** Called for every unhandled request (after it is recorded and stalled), e.g. to fail strict runs. */
  readonly onUnhandledRequest?: ((request: UnhandledRequest) => void) | undefined;
}

export class UfxDevice implements BusFunctionController, UfxLinkHost {
  readonly bus: VirtualBus;
  readonly config: UsbFnRegistryConfig;
  readonly maxSpeed: UsbDeviceSpeed;
  readonly resolved: ResolvedConfiguration;
  readonly #onUnhandled: ((r: UnhandledRequest) => void) | undefined;
  readonly #links: UfxFunctionLink[] = [];
  readonly #linkByNumber = new Map<number, UfxFunctionLink>();
  readonly #ifaceByNumber = new Map<number, ResolvedInterface>();
  readonly #tables = new Map<UsbDeviceSpeed, DescriptorTable>();
  readonly #registeredStrings = new Map<number, Uint8Array>();
  #state: UfxDeviceState = 'detached';
  #speed: UsbDeviceSpeed | undefined;
  #suspended = false;
  #configuration = 0;
  #remoteWakeup = false;
  readonly #alternate = new Map<number, number>();
  /** Active endpoint address → owning interface number. */
  readonly #owners = new Map<number, number>();
  #unhandled: UnhandledRequest[] = [];
  #handlers: ControlHandler[] = [];

  /**
   * Builds the function controller for `config` and plugs it into `bus`.
   * @throws UsageError INVALID_CONFIG when the registry configuration is inconsistent.
   */
  constructor(bus: VirtualBus, config: UsbFnRegistryConfig, options: UfxDeviceOptions = {}) {
    this.bus = bus;
    this.config = config;
    this.maxSpeed = options.maxSpeed ?? 'high';
    this.#onUnhandled = options.onUnhandledRequest;
    this.resolved = resolveConfiguration(config);
    if (this.resolved.interfaces.length === 0) {
      throw new UsageError('INVALID_CONFIG', `configuration '${config.CurrentConfiguration}' lists no interfaces; add one to its InterfaceList`);
    }
    for (const iface of this.resolved.interfaces) {
      const link = new UfxFunctionLink(this, config, iface.interfaceNumber, iface.name, iface.interfaceGuid);
      this.#links.push(link);
      this.#linkByNumber.set(iface.interfaceNumber, link);
      this.#ifaceByNumber.set(iface.interfaceNumber, iface);
    }
    bus.plugDevice(this);
  }

  // ---------------------------------------------------------------------------------------------
  // Function-side API

  /**
   * The class-driver link of the function with `interfaceNumber` (what the GenericUSBFn model drives).
   * @throws UsageError INVALID_ARGUMENT naming the interfaces that exist.
   */
  link(interfaceNumber: number): UfxFunctionLink {
    const link = this.#linkByNumber.get(interfaceNumber);
    if (link === undefined) {
      throw new UsageError(
        'INVALID_ARGUMENT',
        `no function with interface number ${interfaceNumber}; configuration '${this.resolved.configName}' has ${[...this.#linkByNumber.keys()].join(', ')}`,
      );
    }
    return link;
  }

  /** Every function's link, in InterfaceList order. */
  links(): readonly UfxFunctionLink[] {
    return this.#links;
  }

  get state(): UfxDeviceState {
    return this.#state;
  }
  get speed(): UsbDeviceSpeed | undefined {
    return this.#speed;
  }
  get configured(): boolean {
    return this.#state === 'configured';
  }
  /** No SOF for 3 ms: suspended until resume (USB 2.0 §7.1.7.6). */
  get isSuspended(): boolean {
    return this.#suspended;
  }

  /** Halt bit, data toggle and queue depths of an endpoint (for scenarios; USB-observable state). */
  endpointState(address: number): EndpointState {
    return this.bus.endpointState(address);
  }

  endpointOwner(address: number): number | undefined {
    return this.#owners.get(address);
  }

  /** Requests that were stalled because nothing handles them, oldest first. */
  unhandled(): readonly UnhandledRequest[] {
    return [...this.#unhandled];
  }

  clearUnhandled(): void {
    this.#unhandled = [];
  }

  /** Prepends control-request overrides (newest first). Returns a remover. */
  use(...handlers: ControlHandler[]): () => void {
    this.#handlers = [...handlers, ...this.#handlers];
    return () => {
      this.#handlers = this.#handlers.filter((h) => !handlers.includes(h));
    };
  }

  /** Removes every override (the rig calls it after each test). */
  resetHandlers(): void {
    this.#handlers = [];
  }

  registerString(stringIndex: number, value: string): void {
    if (!Number.isInteger(stringIndex) || stringIndex < 1 || stringIndex > 0xff) {
      throw new UsageError('INVALID_ARGUMENT', `string index ${stringIndex} must be 1..255 (index 0 is the LANGID list)`);
    }
    this.#registeredStrings.set(stringIndex, stringDescriptor(value));
  }

  linkActivated(): void {
    if (this.#links.every((l) => l.active)) this.bus.connect();
  }

  /** The descriptor table the host reads at `speed` (built once per speed). */
  descriptors(speed: UsbDeviceSpeed): DescriptorTable {
    let t = this.#tables.get(speed);
    if (t === undefined) {
      t = buildDescriptorTable(this.config, speed, this.maxSpeed !== 'full');
      this.#tables.set(speed, t);
    }
    return t;
  }

  // ---------------------------------------------------------------------------------------------
  // BusFunctionController

  vbusOn(): void {
    this.#state = 'attached';
    this.#broadcast({ type: 'attach' });
  }

  vbusOff(): void {
    // The bus purged every endpoint before calling (*UFX page*: purge, then the event).
    this.#resetState('detached');
    this.#speed = undefined;
    this.#broadcast({ type: 'detach' });
  }

  busReset(speed: UsbDeviceSpeed): void {
    this.#resetState('default');
    this.#speed = speed;
    this.#broadcast({ type: 'reset', speed });
  }

  busSuspended(): void {
    this.#suspended = true;
    this.#broadcast({ type: 'suspend' });
  }

  busResumed(): void {
    this.#suspended = false;
    this.#broadcast({ type: 'resume' });
  }

  setup(ctl: LinkUrb): void {
    const bm = ctl.bmRequestType;
    if (this.#handlers.length > 0) {
      const fields = this.#fields(ctl);
      for (const h of this.#handlers) {
        const reply = h(fields);
        if (reply === undefined) continue;
        if ('stall' in reply) this.bus.ep0.stall(ctl);
        else this.bus.ep0.reply(ctl, 'data' in reply ? reply.data : undefined);
        return;
      }
    }
    const type = (bm >> 5) & 0x03;
    const recipient = bm & 0x1f;
    if (type === 0) {
      const problem = this.#standard(ctl);
      if (problem !== undefined) this.#stallUnhandled(ctl, problem);
      return;
    }
    if (type === 1 && recipient === 1) {
      // Class request to an interface → that function's class driver (usbfnbase.h UsbfnEventSetupPacket).
      const ifnum = ctl.wIndex & 0xff;
      const link = this.#linkByNumber.get(ifnum);
      if (link === undefined) return this.#stallUnhandled(ctl, `class request to interface ${ifnum}, which does not exist`);
      // ASSUMPTION(link-class-before-configured): USB 2.0 §9.4 makes interface requests valid only when configured;
      // SET_CONFIGURATION UFX stalls them instead of forwarding.
      if (this.#state !== 'configured') return this.#stallUnhandled(ctl, `class request to interface ${ifnum} before SET_CONFIGURATION`);
      link.deliverSetup(ctl);
      return;
    }
    this.#stallUnhandled(
      ctl,
      type === 2 ? 'vendor request' : type === 1 ? `class request to ${['device', 'interface', 'endpoint', 'other'][recipient] ?? 'reserved recipient'}` : 'reserved request type',
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Chapter 9

  /** Answers a standard request; returns why it is unhandled, or undefined when answered. */
  #standard(ctl: LinkUrb): string | undefined {
    const bm = ctl.bmRequestType;
    const recipient = bm & 0x1f;
    const isIn = (bm & 0x80) !== 0;
    const { wValue, wIndex } = ctl;
    switch (ctl.bRequest) {
      case USB_REQUEST.GET_DESCRIPTOR: {
        if (!isIn || recipient !== 0) return 'GET_DESCRIPTOR not addressed to the device';
        const data = this.#descriptor(wValue >> 8, wValue & 0xff);
        if (data === undefined) return `no descriptor type ${hex(wValue >> 8)} index ${wValue & 0xff} at ${this.#speed ?? 'no'} speed`;
        this.bus.ep0.reply(ctl, data);
        return undefined;
      }
      case USB_REQUEST.SET_ADDRESS: {
        if (isIn || recipient !== 0 || wValue > 127) return `SET_ADDRESS(${wValue})`;
        // ASSUMPTION(link-unmodelled-requests): USB 2.0 §9.4.6 leaves SET_ADDRESS in the Configured state unspecified: stall.
        if (this.#state === 'configured') return 'SET_ADDRESS in the configured state (USB 2.0 §9.4.6: not specified)';
        this.bus.ep0.reply(ctl);
        // USB 2.0 §9.4.6: the address applies after the status stage; URBs keep the address they were sent to.
        this.bus.setAddress(wValue);
        this.#state = wValue === 0 ? 'default' : 'addressed';
        return undefined;
      }
      case USB_REQUEST.GET_CONFIGURATION:
        if (!isIn || recipient !== 0) return 'GET_CONFIGURATION not addressed to the device';
        this.bus.ep0.reply(ctl, Uint8Array.of(this.#configuration));
        return undefined;
      case USB_REQUEST.SET_CONFIGURATION:
        if (isIn || recipient !== 0) return 'SET_CONFIGURATION not addressed to the device';
        return this.#setConfiguration(ctl, wValue & 0xff);
      case USB_REQUEST.GET_STATUS:
        return this.#getStatus(ctl, recipient, wIndex);
      case USB_REQUEST.CLEAR_FEATURE:
      case USB_REQUEST.SET_FEATURE:
        return this.#feature(ctl, recipient, wValue, wIndex, ctl.bRequest === USB_REQUEST.SET_FEATURE);
      case USB_REQUEST.GET_INTERFACE: {
        const iface = this.#ifaceByNumber.get(wIndex & 0xff);
        if (!isIn || recipient !== 1 || iface === undefined || !this.configured) return `GET_INTERFACE(${wIndex})`;
        this.bus.ep0.reply(ctl, Uint8Array.of(this.#alternate.get(iface.interfaceNumber) ?? 0));
        return undefined;
      }
      case USB_REQUEST.SET_INTERFACE:
        return this.#setInterface(ctl, recipient, wIndex & 0xff, wValue);
      default:
        return `standard request ${hex(ctl.bRequest)}`;
    }
  }

  #descriptor(type: number, index: number): Uint8Array | undefined {
    if (this.#speed === undefined) return undefined;
    const t = this.descriptors(this.#speed);
    switch (type) {
      case USB_DT.DEVICE:
        return t.device;
      case USB_DT.CONFIGURATION:
        return index === 0 ? t.configuration : undefined;
      case USB_DT.STRING:
        // ASSUMPTION(link-unmodelled-requests): the LANGID in wIndex is not checked (one language, like most devices).
        return this.#registeredStrings.get(index) ?? t.strings.get(index);
      case USB_DT.DEVICE_QUALIFIER:
        return t.deviceQualifier;
      case USB_DT.OTHER_SPEED_CONFIGURATION:
        return index === 0 ? t.otherSpeedConfiguration : undefined;
      case USB_DT.BOS:
        return t.bos;
      default:
        return undefined;
    }
  }

  #setConfiguration(ctl: LinkUrb, value: number): string | undefined {
    if (this.#state === 'default' || this.#state === 'detached' || this.#state === 'attached') {
      return `SET_CONFIGURATION(${value}) in the ${this.#state} state (needs an address first)`;
    }
    if (value !== 0 && value !== this.resolved.bConfigurationValue) return `SET_CONFIGURATION(${value}): no such configuration`;
    this.bus.ep0.reply(ctl);
    if (value === 0) {
      if (this.#state !== 'configured') return undefined;
      // Reference §6.1: SET_CONFIGURATION(0) purges the interface endpoints, then UnConfigured.
      this.#deconfigureAll();
      this.#configuration = 0;
      this.#state = 'addressed';
      this.#broadcast({ type: 'unConfigured' });
      return undefined;
    }
    // ASSUMPTION(link-set-configuration-again): USB 2.0 §9.4.7, UFX not documented; selecting the current configuration again
    // purges its endpoints, resets toggles and alternate settings, and reports Configured again.
    if (this.#state === 'configured') this.#deconfigureAll();
    this.#configuration = value;
    this.#state = 'configured';
    for (const iface of this.resolved.interfaces) this.#configureInterface(iface, 0);
    this.#broadcast({ type: 'configured', configurationValue: value });
    return undefined;
  }

  #setInterface(ctl: LinkUrb, recipient: number, ifnum: number, alt: number): string | undefined {
    const iface = this.#ifaceByNumber.get(ifnum);
    if (recipient !== 1 || iface === undefined || !this.configured) return `SET_INTERFACE(${ifnum}, ${alt})`;
    if (alt >= iface.alternates.length) return `SET_INTERFACE(${ifnum}, ${alt}): interface ${ifnum} has ${iface.alternates.length} alternate setting(s)`;
    this.bus.ep0.reply(ctl);
    // ASSUMPTION(link-set-interface): USB 2.0 §9.4.10, UFX not documented; the old setting's endpoints are purged, the new
    // ones start at DATA0, then SetInterface is reported to the function.
    this.#deconfigureInterface(iface);
    this.#configureInterface(iface, alt);
    this.#linkByNumber.get(ifnum)!.post({ type: 'setInterface', interfaceNumber: ifnum, alternateSetting: alt });
    return undefined;
  }

  #getStatus(ctl: LinkUrb, recipient: number, wIndex: number): string | undefined {
    if ((ctl.bmRequestType & 0x80) === 0 || ctl.wValue !== 0) return 'GET_STATUS with a bad bmRequestType or wValue';
    if (recipient === 0) {
      // USB 2.0 §9.4.5 Figure 9-4: bit 0 self-powered (bmAttributes D6), bit 1 remote wakeup.
      const selfPowered = (this.resolved.bmAttributes & 0x40) !== 0 ? 1 : 0;
      this.bus.ep0.reply(ctl, Uint8Array.of(selfPowered | (this.#remoteWakeup ? 2 : 0), 0));
      return undefined;
    }
    if (recipient === 1) {
      if (!this.configured || !this.#ifaceByNumber.has(wIndex & 0xff)) return `GET_STATUS of interface ${wIndex & 0xff}`;
      this.bus.ep0.reply(ctl, Uint8Array.of(0, 0));
      return undefined;
    }
    if (recipient === 2) {
      const addr = wIndex & 0xff;
      if ((addr & 0x0f) === 0) {
        this.bus.ep0.reply(ctl, Uint8Array.of(0, 0));
        return undefined;
      }
      if (!this.#owners.has(addr)) return `GET_STATUS of endpoint ${hex(addr)}, which is not in the active configuration`;
      this.bus.ep0.reply(ctl, Uint8Array.of(this.bus.endpoints.isHalted(addr) ? 1 : 0, 0));
      return undefined;
    }
    return 'GET_STATUS to recipient other';
  }

  #feature(ctl: LinkUrb, recipient: number, feature: number, wIndex: number, set: boolean): string | undefined {
    const name = set ? 'SET_FEATURE' : 'CLEAR_FEATURE';
    if ((ctl.bmRequestType & 0x80) !== 0 || ctl.length !== 0) return `${name} with a data stage`;
    if (recipient === 2 && feature === USB_FEATURE.ENDPOINT_HALT) {
      const addr = wIndex & 0xff;
      if ((addr & 0x0f) === 0) {
        this.bus.ep0.reply(ctl); // EP0 halt: nothing persists (*UFX page*: a control stall is per setup)
        return undefined;
      }
      if (!this.#owners.has(addr)) return `${name}(ENDPOINT_HALT) on endpoint ${hex(addr)}, which is not in the active configuration`;
      this.bus.ep0.reply(ctl);
      // USB 2.0 §9.4.5: CLEAR_FEATURE(ENDPOINT_HALT) always resets the data toggle; held transfers resume.
      this.bus.endpoints.setHalt(addr, set);
      return undefined;
    }
    if (recipient === 0 && feature === USB_FEATURE.DEVICE_REMOTE_WAKEUP) {
      this.#remoteWakeup = set;
      this.bus.ep0.reply(ctl);
      return undefined;
    }
    return `${name}(feature ${feature}) to recipient ${recipient}`;
  }

  #configureInterface(iface: ResolvedInterface, alt: number): void {
    const speed = this.#speed;
    if (speed === undefined) throw new SimulatorError('SIM_UFX_NO_SPEED', 'configuring endpoints before a bus reset set the speed');
    this.#alternate.set(iface.interfaceNumber, alt);
    for (const ep of alternateEndpoints(iface.alternates[alt]!, speed)) {
      this.#owners.set(ep.address, iface.interfaceNumber);
      this.bus.endpoints.configure(ep.address, {
        type: ep.type === 'control' ? 'bulk' : ep.type,
        maxPacketSize: ep.maxPacketSize,
        bInterval: ep.bInterval,
      });
    }
  }

  #deconfigureInterface(iface: ResolvedInterface): void {
    for (const [addr, owner] of this.#owners) {
      if (owner !== iface.interfaceNumber) continue;
      this.bus.endpoints.deconfigure(addr, 'purged');
      this.#owners.delete(addr);
    }
  }

  #deconfigureAll(): void {
    for (const iface of this.resolved.interfaces) this.#deconfigureInterface(iface);
    this.#alternate.clear();
  }

  #resetState(state: UfxDeviceState): void {
    // The bus already deactivated and purged every pipe; forget which endpoints were live.
    this.#owners.clear();
    this.#alternate.clear();
    this.#configuration = 0;
    this.#remoteWakeup = false;
    this.#suspended = false;
    this.#state = state;
  }

  #broadcast(event: UfxBusEvent): void {
    for (const link of this.#links) link.post(event);
  }

  #fields(ctl: LinkUrb): SetupFields {
    return { bmRequestType: ctl.bmRequestType, bRequest: ctl.bRequest, wValue: ctl.wValue, wIndex: ctl.wIndex, wLength: ctl.length };
  }

  #stallUnhandled(ctl: LinkUrb, reason: string): void {
    const record: UnhandledRequest = { ...this.#fields(ctl), timeMs: this.bus.clock.now(), reason };
    this.#unhandled.push(record);
    this.bus.ep0.stall(ctl);
    this.#onUnhandled?.(record);
  }
}
