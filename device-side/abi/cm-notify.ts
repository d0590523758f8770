/**
 * cfgmgr32.h notification structs and constants: CM_NOTIFY_FILTER (416 bytes on x64 and x86),
 * CM_NOTIFY_EVENT_DATA (sizeof 36, variable length), CM_NOTIFY_ACTION, CM_NOTIFY_FILTER_TYPE, flags.
 *
 * @see docs/reference/configuration-manager.md#constants, docs/reference/structs.md#cm-notify-filter, #cm-notify-event-data
 * @see https://learn.microsoft.com/windows/win32/api/cfgmgr32/ns-cfgmgr32-cm_notify_filter
 */
import { AbiDecodeError, abiEncodeError, requireBytes, requireExactBytes, requireInt } from './decode-error.js';
import { GUID_NULL, decodeGuid, encodeGuid } from './guid.js';
import { readWideString, writeWideString } from './wide-string.js';

/** sizeof(CM_NOTIFY_FILTER) on x64 (align 8) and x86 (align 4) alike. */
export const CM_NOTIFY_FILTER_SIZE = 416;
/** sizeof(CM_NOTIFY_EVENT_DATA); real event data runs past it (EventDataSize ≥ 36). */
export const CM_NOTIFY_EVENT_DATA_SIZE = 36;
/** WCHARs in a device instance ID including NUL (cfgmgr32.h). */
export const MAX_DEVICE_ID_LEN = 200;

export const CM_NOTIFY_FILTER_FLAG_ALL_INTERFACE_CLASSES = 0x1;
export const CM_NOTIFY_FILTER_FLAG_ALL_DEVICE_INSTANCES = 0x2;
export const CM_NOTIFY_FILTER_VALID_FLAGS = 0x3;

export const CM_GET_DEVICE_INTERFACE_LIST_PRESENT = 0x0;
export const CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES = 0x1;
export const CM_GET_DEVICE_INTERFACE_LIST_BITS = 0x1;

/** CM_NOTIFY_FILTER_TYPE */
export const CM_NOTIFY_FILTER_TYPE = {
  CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE: 0,
  CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE: 1,
  CM_NOTIFY_FILTER_TYPE_DEVICEINSTANCE: 2,
  CM_NOTIFY_FILTER_TYPE_MAX: 3,
} as const;

/** CM_NOTIFY_ACTION (which filter type receives each: docs/reference/configuration-manager.md#actions). */
export const CM_NOTIFY_ACTION = {
  CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL: 0,
  CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL: 1,
  CM_NOTIFY_ACTION_DEVICEQUERYREMOVE: 2,
  CM_NOTIFY_ACTION_DEVICEQUERYREMOVEFAILED: 3,
  CM_NOTIFY_ACTION_DEVICEREMOVEPENDING: 4,
  CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE: 5,
  CM_NOTIFY_ACTION_DEVICECUSTOMEVENT: 6,
  CM_NOTIFY_ACTION_DEVICEINSTANCEENUMERATED: 7,
  CM_NOTIFY_ACTION_DEVICEINSTANCESTARTED: 8,
  CM_NOTIFY_ACTION_DEVICEINSTANCEREMOVED: 9,
  CM_NOTIFY_ACTION_MAX: 10,
} as const;
export type CmNotifyActionName = keyof typeof CM_NOTIFY_ACTION;

const ACTION_NAME_BY_VALUE: ReadonlyMap<number, string> = new Map(
  Object.entries(CM_NOTIFY_ACTION).map(([k, v]) => [v, k] as const),
);

/** The cfgmgr32.h name of a CM_NOTIFY_ACTION value, or `CM_NOTIFY_ACTION(<v>)`. */
export function cmNotifyActionName(v: number): string {
  return ACTION_NAME_BY_VALUE.get(v) ?? `CM_NOTIFY_ACTION(${v})`;
}

/** Our name of a CM_NOTIFY_FILTER_TYPE value. */
export type CmNotifyFilterTypeName = 'deviceInterface' | 'deviceHandle' | 'deviceInstance';
const FILTER_TYPE_NAMES: readonly CmNotifyFilterTypeName[] = ['deviceInterface', 'deviceHandle', 'deviceInstance'];

/** A CM_NOTIFY_FILTER, by filter type. */
export type CmNotifyFilter =
  | {
      readonly type: 'deviceInterface';
      /** Interface class GUID; must be GUID_NULL (or omitted) with `allInterfaceClasses`. */
      readonly classGuid?: string | undefined;
      readonly allInterfaceClasses?: boolean | undefined;
    }
  | {
      readonly type: 'deviceHandle';
      /** HANDLE (koffi 3 pointers are BigInts); 8 bytes on x64. */
      readonly hTarget: bigint;
    }
  | {
      readonly type: 'deviceInstance';
      /** Device instance ID (≤ 199 WCHARs); must be '' (or omitted) with `allDeviceInstances`. */
      readonly instanceId?: string | undefined;
      readonly allDeviceInstances?: boolean | undefined;
    };

const F = 'CM_NOTIFY_FILTER';
const UNION = 16;

/**
 * Encodes a 416-byte CM_NOTIFY_FILTER (cbSize = 416) for x64.
 * @throws UsageError ABI_ENCODE when a flag breaks its validity rule (ALL_INTERFACE_CLASSES with a
 * non-null ClassGuid, ALL_DEVICE_INSTANCES with a non-empty InstanceId), a missing GUID/ID, or an ID too long.
 */
export function encodeCmNotifyFilter(f: CmNotifyFilter): Uint8Array {
  const out = new Uint8Array(CM_NOTIFY_FILTER_SIZE);
  const dv = new DataView(out.buffer);
  let flags = 0;
  switch (f.type) {
    case 'deviceInterface': {
      const guid = f.classGuid ?? GUID_NULL;
      if (f.allInterfaceClasses) {
        flags = CM_NOTIFY_FILTER_FLAG_ALL_INTERFACE_CLASSES;
        if (encodeGuid(guid).some((b) => b !== 0)) {
          throw abiEncodeError(F, 'u.DeviceInterface.ClassGuid', 'must be GUID_NULL with CM_NOTIFY_FILTER_FLAG_ALL_INTERFACE_CLASSES');
        }
      } else if (f.classGuid === undefined) {
        throw abiEncodeError(F, 'u.DeviceInterface.ClassGuid', 'give a classGuid, or set allInterfaceClasses');
      }
      encodeGuid(guid, out, UNION);
      break;
    }
    case 'deviceHandle':
      if (f.hTarget < 0n || f.hTarget > 0xffffffffffffffffn) {
        throw abiEncodeError(F, 'u.DeviceHandle.hTarget', `${f.hTarget} is not a 64-bit handle value`);
      }
      dv.setBigUint64(UNION, f.hTarget, true);
      break;
    case 'deviceInstance': {
      const id = f.instanceId ?? '';
      if (f.allDeviceInstances) {
        flags = CM_NOTIFY_FILTER_FLAG_ALL_DEVICE_INSTANCES;
        if (id !== '') throw abiEncodeError(F, 'u.DeviceInstance.InstanceId', "must be '' with CM_NOTIFY_FILTER_FLAG_ALL_DEVICE_INSTANCES");
      } else if (id === '') {
        throw abiEncodeError(F, 'u.DeviceInstance.InstanceId', 'give an instanceId, or set allDeviceInstances');
      }
      writeWideString(out, UNION, id, MAX_DEVICE_ID_LEN, { nulTerminate: true, struct: F, field: 'u.DeviceInstance.InstanceId' });
      break;
    }
  }
  dv.setUint32(0, CM_NOTIFY_FILTER_SIZE, true); // @0 cbSize
  dv.setUint32(4, flags, true); //                 @4 Flags
  dv.setUint32(8, FILTER_TYPE_NAMES.indexOf(f.type), true); // @8 FilterType
  // @12 Reserved = 0
  return out;
}

function filterError(field: string, detail: string): AbiDecodeError {
  return new AbiDecodeError({ struct: F, field, detail });
}

/**
 * Decodes and validates a CM_NOTIFY_FILTER the way CM_Register_Notification would.
 * @throws AbiDecodeError for a wrong buffer length or cbSize, unknown FilterType or flag bits, a flag with the
 * wrong filter type, a non-null ClassGuid with ALL_INTERFACE_CLASSES, a non-empty InstanceId with
 * ALL_DEVICE_INSTANCES, a non-zero Reserved, or an unterminated InstanceId.
 */
export function decodeCmNotifyFilter(bytes: Uint8Array): CmNotifyFilter {
  requireExactBytes(F, bytes, CM_NOTIFY_FILTER_SIZE);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const cbSize = dv.getUint32(0, true);
  const flags = dv.getUint32(4, true);
  const filterType = dv.getUint32(8, true);
  if (cbSize !== CM_NOTIFY_FILTER_SIZE) throw filterError('cbSize', `${cbSize}; must be sizeof(CM_NOTIFY_FILTER) = ${CM_NOTIFY_FILTER_SIZE}`);
  if ((flags & ~CM_NOTIFY_FILTER_VALID_FLAGS) !== 0) {
    throw filterError('Flags', `0x${flags.toString(16)} has bits outside CM_NOTIFY_FILTER_VALID_FLAGS (0x3)`);
  }
  if (dv.getUint32(12, true) !== 0) throw filterError('Reserved', 'must be 0');
  const type = FILTER_TYPE_NAMES[filterType];
  if (type === undefined) throw filterError('FilterType', `${filterType} is not a CM_NOTIFY_FILTER_TYPE (0–2)`);
  const allIf = (flags & CM_NOTIFY_FILTER_FLAG_ALL_INTERFACE_CLASSES) !== 0;
  const allInst = (flags & CM_NOTIFY_FILTER_FLAG_ALL_DEVICE_INSTANCES) !== 0;
  if (allIf && type !== 'deviceInterface') throw filterError('Flags', 'ALL_INTERFACE_CLASSES is valid only with FilterType DEVICEINTERFACE');
  if (allInst && type !== 'deviceInstance') throw filterError('Flags', 'ALL_DEVICE_INSTANCES is valid only with FilterType DEVICEINSTANCE');
  switch (type) {
    case 'deviceInterface': {
      const classGuid = decodeGuid(bytes, UNION);
      if (allIf && classGuid !== GUID_NULL) throw filterError('u.DeviceInterface.ClassGuid', 'must be all zero with ALL_INTERFACE_CLASSES');
      return allIf ? { type, classGuid, allInterfaceClasses: true } : { type, classGuid };
    }
    case 'deviceHandle':
      return { type, hTarget: dv.getBigUint64(UNION, true) };
    case 'deviceInstance': {
      const r = readWideString(bytes, UNION, MAX_DEVICE_ID_LEN);
      if (!r.terminated) throw filterError('u.DeviceInstance.InstanceId', `not NUL-terminated within MAX_DEVICE_ID_LEN (${MAX_DEVICE_ID_LEN})`);
      if (allInst && r.text !== '') throw filterError('u.DeviceInstance.InstanceId', "must be '' with ALL_DEVICE_INSTANCES");
      if (!allInst && r.text === '') throw filterError('u.DeviceInstance.InstanceId', 'empty without ALL_DEVICE_INSTANCES');
      return allInst ? { type, instanceId: '', allDeviceInstances: true } : { type, instanceId: r.text };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// CM_NOTIFY_EVENT_DATA

/** CM_NOTIFY_EVENT_DATA by filter type. */
export type CmNotifyEventData =
  | { readonly filterType: 'deviceInterface'; readonly classGuid: string; readonly symbolicLink: string }
  | {
      readonly filterType: 'deviceHandle';
      /** GUID_NULL for the non-custom actions. */
      readonly eventGuid: string;
      /** Byte offset of an optional string in `data`, or -1 (CUSTOMEVENT). */
      readonly nameOffset: number;
      readonly data: Uint8Array;
    }
  | { readonly filterType: 'deviceInstance'; readonly instanceId: string };

const D = 'CM_NOTIFY_EVENT_DATA';

/**
 * Encodes a CM_NOTIFY_EVENT_DATA: `max(36, needed)` bytes, strings NUL-terminated and data running past
 * sizeof as Windows delivers them (the length is the callback's EventDataSize).
 * @throws UsageError ABI_ENCODE for a malformed GUID or out-of-range NameOffset.
 */
export function encodeCmNotifyEventData(e: CmNotifyEventData): Uint8Array {
  let needed: number;
  switch (e.filterType) {
    case 'deviceInterface':
      needed = 24 + (e.symbolicLink.length + 1) * 2;
      break;
    case 'deviceHandle':
      requireInt(D, 'u.DeviceHandle.NameOffset', e.nameOffset, -0x80000000, 0x7fffffff);
      needed = 32 + e.data.length;
      break;
    case 'deviceInstance':
      needed = 8 + (e.instanceId.length + 1) * 2;
      break;
  }
  const out = new Uint8Array(Math.max(CM_NOTIFY_EVENT_DATA_SIZE, needed));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, FILTER_TYPE_NAMES.indexOf(e.filterType), true); // @0 FilterType; @4 Reserved = 0
  switch (e.filterType) {
    case 'deviceInterface':
      encodeGuid(e.classGuid, out, 8); //                                 @8 ClassGuid
      writeWideString(out, 24, e.symbolicLink, e.symbolicLink.length + 1, { nulTerminate: true, struct: D, field: 'u.DeviceInterface.SymbolicLink' }); // @24
      break;
    case 'deviceHandle':
      encodeGuid(e.eventGuid, out, 8); //              @8 EventGuid
      dv.setInt32(24, e.nameOffset, true); //          @24 NameOffset
      dv.setUint32(28, e.data.length, true); //        @28 DataSize
      out.set(e.data, 32); //                          @32 Data[]
      break;
    case 'deviceInstance':
      writeWideString(out, 8, e.instanceId, e.instanceId.length + 1, { nulTerminate: true, struct: D, field: 'u.DeviceInstance.InstanceId' }); // @8
      break;
  }
  return out;
}

/** offsetof(CM_NOTIFY_EVENT_DATA, u.DeviceHandle.Data): the custom event's payload starts here. */
export const CM_NOTIFY_EVENT_DATA_HANDLE_DATA_OFFSET = 32;

/**
 * Decodes the CM_NOTIFY_EVENT_DATA a callback received (the whole EventDataSize bytes).
 *
 * Sizes: the DEVICEHANDLE arm needs its 32-byte header and `32 + DataSize` bytes in all, so a custom event
 * with 0–3 data bytes may arrive with an EventDataSize below sizeof (36): cfgmgr32.h declares `Data[ANYSIZE_ARRAY]`
 * and does not say whether CM pads it. The other arms need sizeof (36).
 * @throws AbiDecodeError when shorter than that, FilterType is unknown, a string is not NUL-terminated
 * inside the buffer, or DataSize runs past it.
 */
export function decodeCmNotifyEventData(bytes: Uint8Array): CmNotifyEventData {
  requireBytes(D, bytes, 4);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const filterType = dv.getUint32(0, true);
  const arm = FILTER_TYPE_NAMES[filterType];
  requireBytes(D, bytes, arm === 'deviceHandle' ? CM_NOTIFY_EVENT_DATA_HANDLE_DATA_OFFSET : CM_NOTIFY_EVENT_DATA_SIZE);
  switch (arm) {
    case 'deviceInterface': {
      const r = readWideString(bytes, 24);
      if (!r.terminated) throw new AbiDecodeError({ struct: D, field: 'u.DeviceInterface.SymbolicLink', actualBytes: bytes.length, detail: 'not NUL-terminated inside EventDataSize' });
      return { filterType: 'deviceInterface', classGuid: decodeGuid(bytes, 8), symbolicLink: r.text };
    }
    case 'deviceHandle': {
      const dataSize = dv.getUint32(28, true);
      if (32 + dataSize > bytes.length) {
        throw new AbiDecodeError({
          struct: D,
          field: 'u.DeviceHandle.DataSize',
          expectedBytes: 32 + dataSize,
          actualBytes: bytes.length,
          detail: `DataSize ${dataSize} runs past EventDataSize`,
        });
      }
      return {
        filterType: 'deviceHandle',
        eventGuid: decodeGuid(bytes, 8),
        nameOffset: dv.getInt32(24, true),
        data: bytes.slice(32, 32 + dataSize),
      };
    }
    case 'deviceInstance': {
      const r = readWideString(bytes, 8);
      if (!r.terminated) throw new AbiDecodeError({ struct: D, field: 'u.DeviceInstance.InstanceId', actualBytes: bytes.length, detail: 'not NUL-terminated inside EventDataSize' });
      return { filterType: 'deviceInstance', instanceId: r.text };
    }
    default:
      throw new AbiDecodeError({ struct: D, field: 'FilterType', detail: `${filterType} is not a CM_NOTIFY_FILTER_TYPE (0–2)` });
  }
}
