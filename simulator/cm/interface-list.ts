/**
 * The raw result of CM_Get_Device_Interface_List_SizeW / CM_Get_Device_Interface_ListW: a REG_MULTI_SZ
 * of symbolic links in UTF-16LE, sized in WCHARs (docs/reference/configuration-manager.md#interface-lists).
 *
 * Written here independently of the device-side decoder (docs/architecture.md#tests: the client and the simulator must
 * not share one possibly wrong codec).
 */
import {
  CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES,
  CM_GET_DEVICE_INTERFACE_LIST_BITS,
  CONFIGRET,
  configRetError,
  type InterfaceListQuery,
} from '../../device-side/index.js';
import type { DeviceIncarnation, InterfaceRecord } from './device-incarnation.js';
import { canonicalGuid, instanceIdProblem, lookupKey } from './symbolic-link.js';

/**
 * Required buffer size in WCHARs: every link and its NUL, plus the final NUL of the multi-sz.
 *
 * ASSUMPTION(cm-empty-list): an empty list has size 1 (a single NUL).
 */
export function multiSzChars(links: readonly string[]): number {
  let n = 1;
  for (const l of links) n += l.length + 1;
  return n;
}

/**
 * Writes `links` as a REG_MULTI_SZ into a new `bufferChars * 2`-byte buffer, zero-filled after the
 * list. The caller has checked `bufferChars >= multiSzChars(links)`.
 */
export function writeMultiSz(links: readonly string[], bufferChars: number): Uint8Array {
  const out = new Uint8Array(bufferChars * 2);
  let o = 0;
  for (const l of links) {
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      out[o] = c & 0xff;
      out[o + 1] = c >>> 8;
      o += 2;
    }
    o += 2; // the link's NUL (already zero)
  }
  // The final NUL (and the rest of the buffer) is already zero.
  return out;
}

/**
 * The symbolic links CM_Get_Device_Interface_List(_Size)W returns for `query` (`api` names the call in
 * errors), from every interface ever added (`interfaces`, in first-added order) and the devices ever
 * enumerated (`devices`, by lookupKey(instance ID)). The model documents the filtering and the errors.
 * @throws ConfigRetError CR_INVALID_FLAG, CR_INVALID_DATA, CR_INVALID_DEVICE_ID, CR_NO_SUCH_DEVINST.
 */
export function listInterfaceLinks(
  api: string,
  query: InterfaceListQuery,
  interfaces: Iterable<InterfaceRecord>,
  devices: ReadonlyMap<string, DeviceIncarnation>,
): string[] {
  const flags = query.flags ?? 0;
  if (!Number.isInteger(flags) || (flags & ~CM_GET_DEVICE_INTERFACE_LIST_BITS) !== 0) {
    throw configRetError(api, CONFIGRET.CR_INVALID_FLAG, {
      target: query.interfaceClassGuid,
      detail: `ulFlags 0x${flags.toString(16)} has unknown bits; use CM_GET_DEVICE_INTERFACE_LIST_PRESENT (0) or _ALL_DEVICES (1)`,
    });
  }
  const guid = canonicalGuid(query.interfaceClassGuid);
  if (guid === undefined) {
    throw configRetError(api, CONFIGRET.CR_INVALID_DATA, {
      target: query.interfaceClassGuid,
      detail: `'${query.interfaceClassGuid}' is not a braced GUID; check the InterfaceGUID registry value`,
    });
  }
  let instanceKey: string | undefined;
  if (query.deviceInstanceId !== undefined) {
    const problem = instanceIdProblem(query.deviceInstanceId);
    if (problem !== undefined) {
      throw configRetError(api, CONFIGRET.CR_INVALID_DEVICE_ID, {
        target: query.deviceInstanceId,
        detail: `bad device instance ID: ${problem}`,
      });
    }
    instanceKey = lookupKey(query.deviceInstanceId);
    if (!devices.has(instanceKey)) {
      throw configRetError(api, CONFIGRET.CR_NO_SUCH_DEVINST, {
        target: query.deviceInstanceId,
        detail: 'no device with that instance ID was ever enumerated',
      });
    }
  }
  // ASSUMPTION(cm-all-devices): the flags are named only; ALL_DEVICES adds the interfaces of removed devices;
  // the order is the order interfaces were first added.
  const all = (flags & CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES) !== 0;
  const links: string[] = [];
  for (const rec of interfaces) {
    if (rec.classGuid !== guid) continue;
    if (instanceKey !== undefined && rec.instanceKey !== instanceKey) continue;
    if (!all && (rec.enabledBy === undefined || rec.enabledBy.state !== 'present')) continue;
    links.push(rec.symbolicLink);
  }
  return links;
}
