/**
 * The link state the bus's parts share: written by the {@link VirtualBus} façade (VBUS, reset, suspend,
 * addressing), read by the control pipe and the packet engine.
 */
import type { UsbDeviceSpeed } from '../../../core/index.js';
import type { LinkUrb } from '../link-contract.js';
import { SLOT_UNITS, type SpeedSlots } from './bus-timing.js';

/** What the bus needs from the device end (implemented by the UFX model, simulator/link/device-end/ufx-device.ts). */
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
  setup(ctl: LinkUrb): void;
}

export class BusState {
  /** VBUS present and pull-up on: the host can see the device. */
  connected = false;
  /** No SOFs: transfers wait until resume. */
  suspended = false;
  /** Device address (0 = default address). */
  address = 0;
  /** Slot costs at the negotiated speed. */
  slots: SpeedSlots = SLOT_UNITS.high;
  /** EP0 wMaxPacketSize at the negotiated speed. */
  ep0MaxPacket = 64;
  /** The function controller plugged into the device end. */
  device: BusFunctionController | undefined = undefined;
}
