/**
 * USBFN_NOTIFICATION (usbfnbase.h): the 12-byte output of IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
 * decoded into a discriminated union whose `type` is the USBFN_EVENT name without its prefix.
 *
 * Layout (align 4): Event u32 @0; union u (8 bytes) @4: BusSpeed u32 | SetupPacket 8 B |
 * ConfigurationValue u16 | PortType u32 | AlternateInterface { InterfaceNumber u16 @4, AlternateInterfaceNumber u16 @6 }.
 *
 * @see docs/reference/structs.md#usbfn-notification
 */
import { type SetupPacket } from '../../core/index.js';
import { requireExactBytes, requireInt, requireTarget } from './decode-error.js';
import { decodeSetupPacket, encodeSetupPacket } from './setup-packet.js';
import { USBFN_EVENT } from './usbfn-types.js';

/** sizeof(USBFN_NOTIFICATION) */
export const USBFN_NOTIFICATION_SIZE = 12;
/** offsetof(USBFN_NOTIFICATION, u) */
export const USBFN_NOTIFICATION_UNION_OFFSET = 4;

/**
 * One bus event. `busSpeed` and `portType` are the raw USBFN_BUS_SPEED / USBFN_PORT_TYPE numbers (use
 * `busSpeedName`). Events outside USBFN_EVENT's defined range (a newer driver) decode as `unknown`
 * with the raw 8-byte union, rather than failing.
 */
export type UsbfnNotification =
  | { readonly type: 'attach' }
  | { readonly type: 'reset'; readonly busSpeed: number }
  | { readonly type: 'detach'; readonly busSpeed: number }
  | { readonly type: 'suspend' }
  | { readonly type: 'resume' }
  | { readonly type: 'setupPacket'; readonly setupPacket: SetupPacket }
  | { readonly type: 'configured'; readonly configurationValue: number }
  | { readonly type: 'unConfigured' }
  | { readonly type: 'portType'; readonly portType: number }
  | { readonly type: 'busTearDown' }
  | { readonly type: 'setInterface'; readonly interfaceNumber: number; readonly alternateInterfaceNumber: number }
  | { readonly type: 'unknown'; readonly event: number; readonly raw: Uint8Array };

/** The `type` of a {@link UsbfnNotification}. */
export type UsbfnNotificationType = UsbfnNotification['type'];

const S = 'USBFN_NOTIFICATION';
const E = USBFN_EVENT;

/**
 * Writes a 12-byte USBFN_NOTIFICATION (union bytes not used by the event are zero).
 * @throws UsageError ABI_ENCODE for out-of-range fields, a `raw` that is not 8 bytes, or a too-small target.
 */
export function encodeUsbfnNotification(n: UsbfnNotification, target?: Uint8Array, offset = 0): Uint8Array {
  const out = target ?? new Uint8Array(USBFN_NOTIFICATION_SIZE);
  requireTarget(S, out, USBFN_NOTIFICATION_SIZE, offset);
  const dv = new DataView(out.buffer, out.byteOffset + offset, USBFN_NOTIFICATION_SIZE);
  out.fill(0, offset, offset + USBFN_NOTIFICATION_SIZE);
  const u = USBFN_NOTIFICATION_UNION_OFFSET;
  let event: number;
  switch (n.type) {
    case 'attach':
      event = E.UsbfnEventAttach;
      break;
    case 'reset':
    case 'detach':
      event = n.type === 'reset' ? E.UsbfnEventReset : E.UsbfnEventDetach;
      requireInt(S, 'u.BusSpeed', n.busSpeed, 0, 0xffffffff);
      dv.setUint32(u, n.busSpeed, true);
      break;
    case 'suspend':
      event = E.UsbfnEventSuspend;
      break;
    case 'resume':
      event = E.UsbfnEventResume;
      break;
    case 'setupPacket':
      event = E.UsbfnEventSetupPacket;
      encodeSetupPacket(n.setupPacket, out, offset + u);
      break;
    case 'configured':
      event = E.UsbfnEventConfigured;
      requireInt(S, 'u.ConfigurationValue', n.configurationValue, 0, 0xffff);
      dv.setUint16(u, n.configurationValue, true);
      break;
    case 'unConfigured':
      event = E.UsbfnEventUnConfigured;
      break;
    case 'portType':
      event = E.UsbfnEventPortType;
      requireInt(S, 'u.PortType', n.portType, 0, 0xffffffff);
      dv.setUint32(u, n.portType, true);
      break;
    case 'busTearDown':
      event = E.UsbfnEventBusTearDown;
      break;
    case 'setInterface':
      event = E.UsbfnEventSetInterface;
      requireInt(S, 'u.AlternateInterface.InterfaceNumber', n.interfaceNumber, 0, 0xffff);
      requireInt(S, 'u.AlternateInterface.AlternateInterfaceNumber', n.alternateInterfaceNumber, 0, 0xffff);
      dv.setUint16(u, n.interfaceNumber, true);
      dv.setUint16(u + 2, n.alternateInterfaceNumber, true);
      break;
    case 'unknown':
      event = n.event;
      requireInt(S, 'Event', n.event, 0, 0xffffffff);
      requireInt(S, 'u (raw length)', n.raw.length, 8, 8);
      out.set(n.raw, offset + u);
      break;
  }
  dv.setUint32(0, event, true);
  return out;
}

/**
 * Decodes the 12 bytes a BUS_EVENT_NOTIFICATION returned.
 * @throws AbiDecodeError unless `bytes` is exactly 12 bytes long.
 */
export function decodeUsbfnNotification(bytes: Uint8Array): UsbfnNotification {
  requireExactBytes(S, bytes, USBFN_NOTIFICATION_SIZE);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, USBFN_NOTIFICATION_SIZE);
  const event = dv.getUint32(0, true);
  const u = USBFN_NOTIFICATION_UNION_OFFSET;
  switch (event) {
    case E.UsbfnEventAttach:
      return { type: 'attach' };
    case E.UsbfnEventReset:
      return { type: 'reset', busSpeed: dv.getUint32(u, true) };
    case E.UsbfnEventDetach:
      return { type: 'detach', busSpeed: dv.getUint32(u, true) };
    case E.UsbfnEventSuspend:
      return { type: 'suspend' };
    case E.UsbfnEventResume:
      return { type: 'resume' };
    case E.UsbfnEventSetupPacket:
      return { type: 'setupPacket', setupPacket: decodeSetupPacket(bytes, u) };
    case E.UsbfnEventConfigured:
      return { type: 'configured', configurationValue: dv.getUint16(u, true) };
    case E.UsbfnEventUnConfigured:
      return { type: 'unConfigured' };
    case E.UsbfnEventPortType:
      return { type: 'portType', portType: dv.getUint32(u, true) };
    case E.UsbfnEventBusTearDown:
      return { type: 'busTearDown' };
    case E.UsbfnEventSetInterface:
      return {
        type: 'setInterface',
        interfaceNumber: dv.getUint16(u, true),
        alternateInterfaceNumber: dv.getUint16(u + 2, true),
      };
    default:
      // UsbfnEventMinimum/Maximum sentinels and values from a newer driver: keep them, do not fail.
      return { type: 'unknown', event, raw: bytes.slice(u, USBFN_NOTIFICATION_SIZE) };
  }
}
