/**
 * Device instance IDs, device-interface symbolic links and GUID strings as the simulated
 * Configuration Manager shapes and compares them.
 *
 * A device instance ID is `<enumerator>\<device ID>\<instance-specific ID>`
 * (`USBFN\LOOPBACK\5&1a2b3c&0&0`). Windows derives a device interface's symbolic link from it by
 * replacing `\` with `#`, prefixing `\\?\` and appending the lowercase braced class GUID and, when the
 * interface was registered with a reference string, `\<referenceString>`:
 * `\\?\USBFN#LOOPBACK#5&1a2b3c&0&0#{5e9adaef-f879-473f-b807-4e5ea77d1b1c}`.
 *
 * @see https://learn.microsoft.com/windows-hardware/drivers/install/device-instance-ids
 * @see docs/reference/configuration-manager.md#symbolic-links (the link arrives in CM_NOTIFY_EVENT_DATA.u.DeviceInterface.SymbolicLink)
 */

import { SimulatorError } from '../../core/index.js';
import { MAX_DEVICE_ID_LEN } from '../../device-side/index.js';

const GUID_RE = /^\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}$/;

/** True for a braced GUID string `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}` (any case). */
export function isGuidString(s: string): boolean {
  return GUID_RE.test(s);
}

/**
 * The canonical form of a braced GUID string: lowercase, as Windows prints it inside symbolic links.
 * Returns `undefined` for a malformed string (the caller picks the error it must raise).
 */
export function canonicalGuid(s: string): string | undefined {
  return GUID_RE.test(s) ? s.toLowerCase() : undefined;
}

/**
 * Why `instanceId` is not a well-formed device instance ID, or `undefined` when it is.
 * Rules: three non-empty `\`-separated parts, shorter than MAX_DEVICE_ID_LEN, printable, no `#`
 * (it would make the derived symbolic link ambiguous).
 */
export function instanceIdProblem(instanceId: string): string | undefined {
  if (instanceId.length === 0) return 'it is empty';
  if (instanceId.length >= MAX_DEVICE_ID_LEN) {
    return `it is ${instanceId.length} characters long; MAX_DEVICE_ID_LEN is ${MAX_DEVICE_ID_LEN} including the NUL`;
  }
  const parts = instanceId.split('\\');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) {
    return 'it must have the shape <enumerator>\\<device ID>\\<instance ID>, e.g. USBFN\\LOOPBACK\\5&1a2b3c&0&0';
  }
  for (let i = 0; i < instanceId.length; i++) {
    const c = instanceId.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x23 /* # */ || c === 0x2c /* , */) {
      return `it contains the character U+${c.toString(16).padStart(4, '0').toUpperCase()} at index ${i}; instance IDs use printable characters other than space, '#' and ','`;
    }
  }
  return undefined;
}

/**
 * Why `referenceString` is not usable as a device interface reference string, or `undefined`.
 * A reference string is one path component: no `\` or `/`, non-empty.
 */
export function referenceStringProblem(referenceString: string): string | undefined {
  if (referenceString.length === 0) return 'it is empty; omit it instead';
  if (/[\\/]/.test(referenceString)) return "it must not contain '\\' or '/'";
  return undefined;
}

/**
 * The symbolic link Windows would give the interface of class `classGuid` on `instanceId`.
 * `classGuid` must already be canonical ({@link canonicalGuid}).
 *
 * @example symbolicLinkFor('USBFN\\LOOPBACK\\5&1a2b3c&0&0', '{5e9adaef-f879-473f-b807-4e5ea77d1b1c}')
 * // '\\\\?\\USBFN#LOOPBACK#5&1a2b3c&0&0#{5e9adaef-f879-473f-b807-4e5ea77d1b1c}'
 */
export function symbolicLinkFor(instanceId: string, classGuid: string, referenceString?: string): string {
  // ASSUMPTION(cm-symbolic-link-shape): the docs give the field, not the derivation; the shape Windows shows for device
  // interfaces, `\\?\` + instance ID with '\' → '#' + '#{guid}' + optional '\ref'.
  const base = `\\\\?\\${instanceId.replaceAll('\\', '#')}#${classGuid}`;
  return referenceString === undefined ? base : `${base}\\${referenceString}`;
}

/**
 * The key under which a symbolic link or instance ID is looked up.
 *
 * ASSUMPTION(cm-case-insensitive): not stated for CM; symbolic links and device instance IDs compare
 * case-insensitively, as object-manager names and PnP device IDs do on Windows.
 */
export function lookupKey(name: string): string {
  return name.toUpperCase();
}

/** One interface given to `ConfigManagerModel.addDevice` (its class GUID, optional reference string). */
export interface InterfaceSpec {
  readonly classGuid: string;
  readonly referenceString?: string | undefined;
}

/**
 * The symbolic links of `instanceId`'s interfaces, checked one at a time and yielded in order (a
 * generator: the caller's work on one interface happens before the next one is checked).
 * @throws SimulatorError SIM_BAD_GUID, SIM_BAD_REFERENCE_STRING, SIM_DUPLICATE_INTERFACE.
 */
export function* interfaceLinksFor(
  instanceId: string,
  interfaces: Iterable<InterfaceSpec>,
): Generator<{ readonly classGuid: string; readonly symbolicLink: string; readonly key: string }> {
  const seen = new Set<string>();
  for (const spec of interfaces) {
    const classGuid = canonicalGuid(spec.classGuid);
    if (classGuid === undefined) {
      throw new SimulatorError(
        'SIM_BAD_GUID',
        `addDevice('${instanceId}'): interface class GUID '${spec.classGuid}' is not a braced GUID {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`,
        { instanceId, classGuid: spec.classGuid },
      );
    }
    if (spec.referenceString !== undefined) {
      const refProblem = referenceStringProblem(spec.referenceString);
      if (refProblem !== undefined) {
        throw new SimulatorError(
          'SIM_BAD_REFERENCE_STRING',
          `addDevice('${instanceId}'): reference string '${spec.referenceString}': ${refProblem}`,
          { instanceId },
        );
      }
    }
    const symbolicLink = symbolicLinkFor(instanceId, classGuid, spec.referenceString);
    const key = lookupKey(symbolicLink);
    if (seen.has(key)) {
      throw new SimulatorError(
        'SIM_DUPLICATE_INTERFACE',
        `addDevice('${instanceId}'): interface ${symbolicLink} is listed twice; give each a distinct class GUID or reference string`,
        { instanceId, symbolicLink },
      );
    }
    seen.add(key);
    yield { classGuid, symbolicLink, key };
  }
}
