/**
 * The GET_CLASS_INFO / GET_CLASS_INFO_EX output structs of usbfnbase.h (natural alignment, align 4):
 * USBFN_PIPE_INFORMATION (12), USBFN_CLASS_INTERFACE (196), USBFN_CLASS_INTERFACE_EX (196),
 * USBFN_CLASS_INFORMATION_PACKET (748), USBFN_CLASS_INFORMATION_PACKET_EX (748).
 *
 * @see docs/reference/structs.md#usbfn-pipe-information (and the four sections after it)
 */
import { AbiDecodeError, abiEncodeError, requireBytes, requireExactBytes, requireInt, requireTarget } from './decode-error.js';
import { decodeEndpointDescriptor, encodeEndpointDescriptor, type EndpointDescriptor } from './descriptors.js';
import { MAX_INTERFACE_GUID_LENGTH, MAX_INTERFACE_NAME_LENGTH, MAX_NUM_USBFN_PIPES } from './usbfn-types.js';
import { readWideString, writeWideString } from './wide-string.js';

export const USBFN_PIPE_INFORMATION_SIZE = 12;
export const USBFN_CLASS_INTERFACE_SIZE = 196;
export const USBFN_CLASS_INTERFACE_EX_SIZE = 196;
export const USBFN_CLASS_INFORMATION_PACKET_SIZE = 748;
export const USBFN_CLASS_INFORMATION_PACKET_EX_SIZE = 748;

/** Field offsets (docs/reference/structs.md#usbfn-class-information-packet and neighbours), for codecs and for tests that check them against the header. */
export const USBFN_PIPE_INFORMATION_OFFSETS = { EpDesc: 0, PipeId: 8 } as const;
export const USBFN_CLASS_INTERFACE_OFFSETS = { InterfaceNumber: 0, PipeCount: 1, PipeArr: 4 } as const;
export const USBFN_CLASS_INTERFACE_EX_OFFSETS = { BaseInterfaceNumber: 0, InterfaceCount: 1, PipeCount: 2, PipeArr: 4 } as const;
export const USBFN_CLASS_INFORMATION_PACKET_OFFSETS = {
  FullSpeedClassInterface: 0,
  HighSpeedClassInterface: 196,
  InterfaceName: 392,
  InterfaceGuid: 472,
  HasInterfaceGuid: 550,
  SuperSpeedClassInterface: 552,
} as const;
export const USBFN_CLASS_INFORMATION_PACKET_EX_OFFSETS = {
  FullSpeedClassInterfaceEx: 0,
  HighSpeedClassInterfaceEx: 196,
  SuperSpeedClassInterfaceEx: 392,
  InterfaceName: 588,
  InterfaceGuid: 668,
  HasInterfaceGuid: 746,
} as const;

/** USBFN_PIPE_INFORMATION: an endpoint and the pipe index the IOCTLs address it by. */
export interface UsbfnPipeInformation {
  readonly epDesc: EndpointDescriptor;
  /** USBFNPIPEID: an index, not the endpoint address. */
  readonly pipeId: number;
}

/** USBFN_CLASS_INTERFACE (PipeArr trimmed to PipeCount). */
export interface UsbfnClassInterface {
  readonly interfaceNumber: number;
  readonly pipes: readonly UsbfnPipeInformation[];
}

/** USBFN_CLASS_INTERFACE_EX (PipeArr trimmed to PipeCount). */
export interface UsbfnClassInterfaceEx {
  readonly baseInterfaceNumber: number;
  readonly interfaceCount: number;
  readonly pipes: readonly UsbfnPipeInformation[];
}

/** USBFN_CLASS_INFORMATION_PACKET (GET_CLASS_INFO). `interfaceGuid` is undefined when HasInterfaceGuid is FALSE. */
export interface UsbfnClassInformationPacket {
  readonly fullSpeed: UsbfnClassInterface;
  readonly highSpeed: UsbfnClassInterface;
  readonly superSpeed: UsbfnClassInterface;
  readonly interfaceName: string;
  readonly interfaceGuid: string | undefined;
}

/** USBFN_CLASS_INFORMATION_PACKET_EX (GET_CLASS_INFO_EX). */
export interface UsbfnClassInformationPacketEx {
  readonly fullSpeed: UsbfnClassInterfaceEx;
  readonly highSpeed: UsbfnClassInterfaceEx;
  readonly superSpeed: UsbfnClassInterfaceEx;
  readonly interfaceName: string;
  readonly interfaceGuid: string | undefined;
}

// ---------------------------------------------------------------------------------------------
// USBFN_PIPE_INFORMATION

/** Writes a 12-byte USBFN_PIPE_INFORMATION (padding byte @7 zero). @throws UsageError ABI_ENCODE */
export function encodeUsbfnPipeInformation(p: UsbfnPipeInformation, target?: Uint8Array, offset = 0): Uint8Array {
  const S = 'USBFN_PIPE_INFORMATION';
  requireInt(S, 'PipeId', p.pipeId, 0, 0xffffffff);
  const out = target ?? new Uint8Array(USBFN_PIPE_INFORMATION_SIZE);
  requireTarget(S, out, USBFN_PIPE_INFORMATION_SIZE, offset);
  encodeEndpointDescriptor(p.epDesc, out, offset); // @0 EpDesc (7 B, packed)
  out[offset + 7] = 0; //                             @7 padding
  new DataView(out.buffer, out.byteOffset + offset + 8, 4).setUint32(0, p.pipeId, true); // @8 PipeId
  return out;
}

/** Reads a USBFN_PIPE_INFORMATION at `offset`. @throws AbiDecodeError when short. */
export function decodeUsbfnPipeInformation(bytes: Uint8Array, offset = 0): UsbfnPipeInformation {
  requireBytes('USBFN_PIPE_INFORMATION', bytes, USBFN_PIPE_INFORMATION_SIZE, offset);
  return {
    epDesc: decodeEndpointDescriptor(bytes, offset),
    pipeId: new DataView(bytes.buffer, bytes.byteOffset + offset + 8, 4).getUint32(0, true),
  };
}

// ---------------------------------------------------------------------------------------------
// USBFN_CLASS_INTERFACE(_EX)

function writePipes(S: string, pipes: readonly UsbfnPipeInformation[], out: Uint8Array, offset: number): void {
  if (pipes.length > MAX_NUM_USBFN_PIPES) {
    throw abiEncodeError(S, 'PipeCount', `${pipes.length} pipes exceed MAX_NUM_USBFN_PIPES (${MAX_NUM_USBFN_PIPES})`);
  }
  out.fill(0, offset + 4, offset + 4 + MAX_NUM_USBFN_PIPES * USBFN_PIPE_INFORMATION_SIZE);
  pipes.forEach((p, i) => encodeUsbfnPipeInformation(p, out, offset + 4 + i * USBFN_PIPE_INFORMATION_SIZE));
}

function readPipes(S: string, bytes: Uint8Array, offset: number, pipeCount: number): UsbfnPipeInformation[] {
  if (pipeCount > MAX_NUM_USBFN_PIPES) {
    throw new AbiDecodeError({
      struct: S,
      field: 'PipeCount',
      detail: `${pipeCount} exceeds MAX_NUM_USBFN_PIPES (${MAX_NUM_USBFN_PIPES}); the buffer is not a ${S}`,
    });
  }
  const pipes: UsbfnPipeInformation[] = [];
  for (let i = 0; i < pipeCount; i++) pipes.push(decodeUsbfnPipeInformation(bytes, offset + 4 + i * USBFN_PIPE_INFORMATION_SIZE));
  return pipes;
}

/** Writes a 196-byte USBFN_CLASS_INTERFACE. @throws UsageError ABI_ENCODE (e.g. more than 16 pipes) */
export function encodeUsbfnClassInterface(c: UsbfnClassInterface, target?: Uint8Array, offset = 0): Uint8Array {
  const S = 'USBFN_CLASS_INTERFACE';
  requireInt(S, 'InterfaceNumber', c.interfaceNumber, 0, 0xff);
  const out = target ?? new Uint8Array(USBFN_CLASS_INTERFACE_SIZE);
  requireTarget(S, out, USBFN_CLASS_INTERFACE_SIZE, offset);
  writePipes(S, c.pipes, out, offset);
  out[offset] = c.interfaceNumber; //    @0 InterfaceNumber
  out[offset + 1] = c.pipes.length; //   @1 PipeCount
  out[offset + 2] = 0; //                @2 padding
  out[offset + 3] = 0;
  return out;
}

/** Reads a USBFN_CLASS_INTERFACE at `offset`. @throws AbiDecodeError when short or PipeCount > 16. */
export function decodeUsbfnClassInterface(bytes: Uint8Array, offset = 0): UsbfnClassInterface {
  const S = 'USBFN_CLASS_INTERFACE';
  requireBytes(S, bytes, USBFN_CLASS_INTERFACE_SIZE, offset);
  return { interfaceNumber: bytes[offset]!, pipes: readPipes(S, bytes, offset, bytes[offset + 1]!) };
}

/** Writes a 196-byte USBFN_CLASS_INTERFACE_EX. @throws UsageError ABI_ENCODE */
export function encodeUsbfnClassInterfaceEx(c: UsbfnClassInterfaceEx, target?: Uint8Array, offset = 0): Uint8Array {
  const S = 'USBFN_CLASS_INTERFACE_EX';
  requireInt(S, 'BaseInterfaceNumber', c.baseInterfaceNumber, 0, 0xff);
  requireInt(S, 'InterfaceCount', c.interfaceCount, 0, 0xff);
  const out = target ?? new Uint8Array(USBFN_CLASS_INTERFACE_EX_SIZE);
  requireTarget(S, out, USBFN_CLASS_INTERFACE_EX_SIZE, offset);
  writePipes(S, c.pipes, out, offset);
  out[offset] = c.baseInterfaceNumber; // @0 BaseInterfaceNumber
  out[offset + 1] = c.interfaceCount; //  @1 InterfaceCount
  out[offset + 2] = c.pipes.length; //    @2 PipeCount
  out[offset + 3] = 0; //                 @3 padding
  return out;
}

/** Reads a USBFN_CLASS_INTERFACE_EX at `offset`. @throws AbiDecodeError when short or PipeCount > 16. */
export function decodeUsbfnClassInterfaceEx(bytes: Uint8Array, offset = 0): UsbfnClassInterfaceEx {
  const S = 'USBFN_CLASS_INTERFACE_EX';
  requireBytes(S, bytes, USBFN_CLASS_INTERFACE_EX_SIZE, offset);
  return {
    baseInterfaceNumber: bytes[offset]!,
    interfaceCount: bytes[offset + 1]!,
    pipes: readPipes(S, bytes, offset, bytes[offset + 2]!),
  };
}

// ---------------------------------------------------------------------------------------------
// USBFN_CLASS_INFORMATION_PACKET(_EX)

function writeNameAndGuid(
  S: string,
  out: Uint8Array,
  nameOff: number,
  guidOff: number,
  hasOff: number,
  p: { readonly interfaceName: string; readonly interfaceGuid: string | undefined },
): void {
  writeWideString(out, nameOff, p.interfaceName, MAX_INTERFACE_NAME_LENGTH, { nulTerminate: true, struct: S, field: 'InterfaceName' });
  writeWideString(out, guidOff, p.interfaceGuid ?? '', MAX_INTERFACE_GUID_LENGTH, { nulTerminate: true, struct: S, field: 'InterfaceGuid' });
  out[hasOff] = p.interfaceGuid === undefined ? 0 : 1; // HasInterfaceGuid (BOOLEAN)
  out[hasOff + 1] = 0; //                                  padding
}

function readNameAndGuid(
  bytes: Uint8Array,
  nameOff: number,
  guidOff: number,
  hasOff: number,
): { interfaceName: string; interfaceGuid: string | undefined } {
  return {
    interfaceName: readWideString(bytes, nameOff, MAX_INTERFACE_NAME_LENGTH).text,
    // BOOLEAN: any non-zero value is TRUE.
    interfaceGuid: bytes[hasOff] === 0 ? undefined : readWideString(bytes, guidOff, MAX_INTERFACE_GUID_LENGTH).text,
  };
}

/**
 * Writes a 748-byte USBFN_CLASS_INFORMATION_PACKET.
 * @throws UsageError ABI_ENCODE (name ≥ 40 WCHARs, GUID ≥ 39 WCHARs, more than 16 pipes, ...)
 */
export function encodeUsbfnClassInformationPacket(p: UsbfnClassInformationPacket, target?: Uint8Array): Uint8Array {
  const S = 'USBFN_CLASS_INFORMATION_PACKET';
  const o = USBFN_CLASS_INFORMATION_PACKET_OFFSETS;
  const out = target ?? new Uint8Array(USBFN_CLASS_INFORMATION_PACKET_SIZE);
  requireTarget(S, out, USBFN_CLASS_INFORMATION_PACKET_SIZE, 0);
  encodeUsbfnClassInterface(p.fullSpeed, out, o.FullSpeedClassInterface);
  encodeUsbfnClassInterface(p.highSpeed, out, o.HighSpeedClassInterface);
  writeNameAndGuid(S, out, o.InterfaceName, o.InterfaceGuid, o.HasInterfaceGuid, p);
  encodeUsbfnClassInterface(p.superSpeed, out, o.SuperSpeedClassInterface);
  return out;
}

/**
 * Decodes the GET_CLASS_INFO output.
 * @throws AbiDecodeError unless exactly 748 bytes with PipeCount ≤ 16 per speed.
 */
export function decodeUsbfnClassInformationPacket(bytes: Uint8Array): UsbfnClassInformationPacket {
  requireExactBytes('USBFN_CLASS_INFORMATION_PACKET', bytes, USBFN_CLASS_INFORMATION_PACKET_SIZE);
  const o = USBFN_CLASS_INFORMATION_PACKET_OFFSETS;
  return {
    fullSpeed: decodeUsbfnClassInterface(bytes, o.FullSpeedClassInterface),
    highSpeed: decodeUsbfnClassInterface(bytes, o.HighSpeedClassInterface),
    superSpeed: decodeUsbfnClassInterface(bytes, o.SuperSpeedClassInterface),
    ...readNameAndGuid(bytes, o.InterfaceName, o.InterfaceGuid, o.HasInterfaceGuid),
  };
}

/** Writes a 748-byte USBFN_CLASS_INFORMATION_PACKET_EX. @throws UsageError ABI_ENCODE */
export function encodeUsbfnClassInformationPacketEx(p: UsbfnClassInformationPacketEx, target?: Uint8Array): Uint8Array {
  const S = 'USBFN_CLASS_INFORMATION_PACKET_EX';
  const o = USBFN_CLASS_INFORMATION_PACKET_EX_OFFSETS;
  const out = target ?? new Uint8Array(USBFN_CLASS_INFORMATION_PACKET_EX_SIZE);
  requireTarget(S, out, USBFN_CLASS_INFORMATION_PACKET_EX_SIZE, 0);
  encodeUsbfnClassInterfaceEx(p.fullSpeed, out, o.FullSpeedClassInterfaceEx);
  encodeUsbfnClassInterfaceEx(p.highSpeed, out, o.HighSpeedClassInterfaceEx);
  encodeUsbfnClassInterfaceEx(p.superSpeed, out, o.SuperSpeedClassInterfaceEx);
  writeNameAndGuid(S, out, o.InterfaceName, o.InterfaceGuid, o.HasInterfaceGuid, p);
  return out;
}

/**
 * Decodes the GET_CLASS_INFO_EX output.
 * @throws AbiDecodeError unless exactly 748 bytes with PipeCount ≤ 16 per speed.
 */
export function decodeUsbfnClassInformationPacketEx(bytes: Uint8Array): UsbfnClassInformationPacketEx {
  requireExactBytes('USBFN_CLASS_INFORMATION_PACKET_EX', bytes, USBFN_CLASS_INFORMATION_PACKET_EX_SIZE);
  const o = USBFN_CLASS_INFORMATION_PACKET_EX_OFFSETS;
  return {
    fullSpeed: decodeUsbfnClassInterfaceEx(bytes, o.FullSpeedClassInterfaceEx),
    highSpeed: decodeUsbfnClassInterfaceEx(bytes, o.HighSpeedClassInterfaceEx),
    superSpeed: decodeUsbfnClassInterfaceEx(bytes, o.SuperSpeedClassInterfaceEx),
    ...readNameAndGuid(bytes, o.InterfaceName, o.InterfaceGuid, o.HasInterfaceGuid),
  };
}
