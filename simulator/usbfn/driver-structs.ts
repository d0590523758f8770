/**
 * The driver side of the usbfnbase.h structs the model writes into callers' output buffers. Writing is
 * done in place (no intermediate objects) because BUS_EVENT_NOTIFICATION is on the control hot path.
 *
 * The client decodes the same bytes with device-side/abi; golden vectors on both sides (docs/reference/structs.md
 * offsets) guard against the two sharing one wrong codec.
 *
 * @see docs/reference/structs.md#usbfn-notification, #usbfn-class-information-packet(-ex), #usbfn-interface-info
 */
import type { UsbDeviceSpeed } from '../../core/index.js';
import type { UfxBusEvent } from '../link/index.js';
import type { FunctionPipes, PipeInfo } from './pipes.js';

/** sizeof(USBFN_NOTIFICATION) (docs/reference/structs.md#usbfn-notification). */
export const USBFN_NOTIFICATION_SIZE = 12;
/** sizeof(USBFN_CLASS_INFORMATION_PACKET) = sizeof(..._EX) (docs/reference/structs.md#usbfn-class-information-packet). */
export const USBFN_CLASS_INFORMATION_PACKET_SIZE = 748;
/** Bytes of USBFN_INTERFACE_INFO before InterfaceDescriptorSet[] (docs/reference/structs.md#usbfn-interface-info). */
export const USBFN_INTERFACE_INFO_HEADER_SIZE = 10;
/** sizeof(USBFN_USB_STRING) (docs/reference/structs.md#usbfn-usb-string). */
export const USBFN_USB_STRING_SIZE = 512;

/** USBFN_EVENT (usbfnbase.h, docs/reference/structs.md#usbfn-event). */
export const USBFN_EVENT = {
  UsbfnEventAttach: 1,
  UsbfnEventReset: 2,
  UsbfnEventDetach: 3,
  UsbfnEventSuspend: 4,
  UsbfnEventResume: 5,
  UsbfnEventSetupPacket: 6,
  UsbfnEventConfigured: 7,
  UsbfnEventUnConfigured: 8,
  UsbfnEventSetInterface: 11,
} as const;

/** USBFN_BUS_SPEED (docs/reference/structs.md#usbfn-bus-speed). */
export const USBFN_BUS_SPEED = { UsbfnBusSpeedLow: 0, UsbfnBusSpeedFull: 1, UsbfnBusSpeedHigh: 2, UsbfnBusSpeedSuper: 3 } as const;

/** UsbDeviceSpeed → USBFN_BUS_SPEED. */
export function busSpeedValue(speed: UsbDeviceSpeed): number {
  return speed === 'full'
    ? USBFN_BUS_SPEED.UsbfnBusSpeedFull
    : speed === 'high'
      ? USBFN_BUS_SPEED.UsbfnBusSpeedHigh
      : USBFN_BUS_SPEED.UsbfnBusSpeedSuper;
}

/** USBFN_BUS_SPEED → UsbDeviceSpeed, or undefined for Low / out-of-range values. */
export function busSpeedFromValue(value: number): UsbDeviceSpeed | undefined {
  return value === 1 ? 'full' : value === 2 ? 'high' : value === 3 ? 'super' : undefined;
}

/**
 * Writes a USBFN_NOTIFICATION for `event` into `out` (≥ 12 bytes). Union bytes an event does not use are
 * zeroed.
 *
 * ASSUMPTION(drv-detach-event): UsbfnEventDetach's union is left zero (the header says BusSpeed is "set
 * appropriately" without saying to what).
 */
export function writeNotification(out: Uint8Array, event: UfxBusEvent): void {
  out.fill(0, 0, USBFN_NOTIFICATION_SIZE);
  let type: number;
  switch (event.type) {
    case 'attach':
      type = USBFN_EVENT.UsbfnEventAttach;
      break;
    case 'reset':
      type = USBFN_EVENT.UsbfnEventReset;
      out[4] = busSpeedValue(event.speed); // u.BusSpeed, 4-byte enum LE @4
      break;
    case 'detach':
      type = USBFN_EVENT.UsbfnEventDetach;
      break;
    case 'suspend':
      type = USBFN_EVENT.UsbfnEventSuspend;
      break;
    case 'resume':
      type = USBFN_EVENT.UsbfnEventResume;
      break;
    case 'setupPacket':
      type = USBFN_EVENT.UsbfnEventSetupPacket;
      out.set(event.setup.subarray(0, 8), 4); // u.SetupPacket, 8 bytes @4
      break;
    case 'configured':
      type = USBFN_EVENT.UsbfnEventConfigured;
      out[4] = event.configurationValue & 0xff; // u.ConfigurationValue USHORT @4
      out[5] = (event.configurationValue >> 8) & 0xff;
      break;
    case 'unConfigured':
      type = USBFN_EVENT.UsbfnEventUnConfigured;
      break;
    case 'setInterface':
      type = USBFN_EVENT.UsbfnEventSetInterface;
      out[4] = event.interfaceNumber & 0xff; // u.AlternateInterface.InterfaceNumber USHORT @4
      out[5] = (event.interfaceNumber >> 8) & 0xff;
      out[6] = event.alternateSetting & 0xff; // .AlternateInterfaceNumber USHORT @6
      out[7] = (event.alternateSetting >> 8) & 0xff;
      break;
  }
  out[0] = type; // Event, 4-byte enum LE @0 (values < 256)
}

/** Writes a WCHAR string (UTF-16LE), NUL-terminated, truncated to `maxChars - 1` characters. */
function writeWide(view: DataView, offset: number, text: string, maxChars: number): void {
  const n = Math.min(text.length, maxChars - 1);
  for (let i = 0; i < n; i++) view.setUint16(offset + 2 * i, text.charCodeAt(i), true);
  view.setUint16(offset + 2 * n, 0, true);
}

/** Writes USBFN_PIPE_INFORMATION[] at `offset` (stride 12: EpDesc 7 bytes @0, pad @7, PipeId ULONG @8). */
function writePipeArr(out: Uint8Array, view: DataView, offset: number, pipes: readonly PipeInfo[]): void {
  for (let i = 0; i < pipes.length; i++) {
    const p = pipes[i]!;
    out.set(p.descriptor, offset + 12 * i);
    view.setUint32(offset + 12 * i + 8, p.pipeId, true);
  }
}

/** The pipe list a class-info packet reports at `speed`, with or without EP0 in PipeArr. */
function reportedPipes(fn: FunctionPipes, speed: UsbDeviceSpeed, ep0: PipeInfo | undefined): readonly PipeInfo[] {
  const pipes = fn.pipes(speed);
  return ep0 === undefined ? pipes : [ep0, ...pipes];
}

/**
 * The EP0 entry used when PipeArr lists EP0: PipeId 0, bEndpointAddress 0, control, wMaxPacketSize
 * 64 (FS/HS) or 512 (SS).
 */
export function ep0PipeInfo(speed: UsbDeviceSpeed): PipeInfo {
  const mps = speed === 'super' ? 512 : 64;
  return {
    pipeId: 0,
    endpointAddress: 0,
    direction: 'out',
    type: 'control',
    maxPacketSize: mps,
    descriptor: Uint8Array.of(7, 5, 0x00, 0x00, mps & 0xff, mps >> 8, 0),
  };
}

/**
 * Writes USBFN_CLASS_INFORMATION_PACKET (`ex` false) or USBFN_CLASS_INFORMATION_PACKET_EX (`ex` true)
 * into `out` (≥ 748 bytes).
 */
export function writeClassInformation(out: Uint8Array, fn: FunctionPipes, ex: boolean, includeEp0: boolean): void {
  out.fill(0, 0, USBFN_CLASS_INFORMATION_PACKET_SIZE);
  const view = new DataView(out.buffer, out.byteOffset, USBFN_CLASS_INFORMATION_PACKET_SIZE);
  const { interfaceNumber, interfaceName, interfaceGuid } = fn.identity;
  // Class interface offsets: non-EX FS@0 HS@196 SS@552; EX FS@0 HS@196 SS@392 (docs/reference/structs.md#usbfn-class-information-packet, #usbfn-class-information-packet-ex).
  const offsets: readonly [UsbDeviceSpeed, number][] = [
    ['full', 0],
    ['high', 196],
    ['super', ex ? 392 : 552],
  ];
  for (const [speed, at] of offsets) {
    const pipes = reportedPipes(fn, speed, includeEp0 ? ep0PipeInfo(speed) : undefined);
    if (ex) {
      out[at] = interfaceNumber; // BaseInterfaceNumber
      out[at + 1] = 1; // InterfaceCount
      out[at + 2] = pipes.length; // PipeCount
    } else {
      out[at] = interfaceNumber; // InterfaceNumber
      out[at + 1] = pipes.length; // PipeCount
    }
    writePipeArr(out, view, at + 4, pipes); // PipeArr[16] @4
  }
  const nameAt = ex ? 588 : 392; // InterfaceName[40] WCHAR
  const guidAt = ex ? 668 : 472; // InterfaceGuid[39] WCHAR
  const hasGuidAt = ex ? 746 : 550; // HasInterfaceGuid BOOLEAN
  writeWide(view, nameAt, interfaceName, 40);
  writeWide(view, guidAt, interfaceGuid, 39);
  out[hasGuidAt] = interfaceGuid.length > 0 ? 1 : 0;
}

/**
 * Writes USBFN_INTERFACE_INFO into `out` (InterfaceNumber @0, Speed @4, Size @8 as USHORT, then the
 * descriptor set @10) as far as it fits: the header always, the set only when `out` holds all of it.
 * `Size` counts the descriptor bytes only, or the header too with `sizeIncludesHeader` (the two readings
 * of the header, see GenericUsbFnModelOptions). Returns the bytes the whole structure needs.
 */
export function writeInterfaceInfo(out: Uint8Array, interfaceNumber: number, speedValue: number, set: Uint8Array, sizeIncludesHeader: boolean): number {
  out[0] = interfaceNumber; // InterfaceNumber @0
  out[1] = out[2] = out[3] = 0;
  out[4] = speedValue; // Speed @4 (enum, LE)
  out[5] = out[6] = out[7] = 0;
  const needed = USBFN_INTERFACE_INFO_HEADER_SIZE + set.length;
  const size = sizeIncludesHeader ? needed : set.length;
  out[8] = size & 0xff; // Size @8 (USHORT)
  out[9] = size >> 8;
  if (out.length >= needed) out.set(set, USBFN_INTERFACE_INFO_HEADER_SIZE); // InterfaceDescriptorSet[] @10
  return needed;
}

/** The text of USBFN_USB_STRING's UsbString[255] (UTF-16LE WCHARs @2, up to the first NUL). */
export function readUsbString(input: Uint8Array): string {
  let text = '';
  for (let i = 0; i < 255; i++) {
    const c = input[2 + 2 * i]! | (input[3 + 2 * i]! << 8);
    if (c === 0) break;
    text += String.fromCharCode(c);
  }
  return text;
}
