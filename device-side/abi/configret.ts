/**
 * CONFIGRET values returned by every cfgmgr32 function (cfgmgr32.h). CM_* functions return a CONFIGRET
 * and do not use GetLastError.
 *
 * @see docs/reference/errors.md#configret (cfgmgr32.h; public copy in microsoft/win32metadata generation/WinSDK/RecompiledIdlHeaders/um/cfgmgr32.h)
 * @see https://learn.microsoft.com/windows/win32/api/cfgmgr32/
 */
import { ConfigRetError } from '../../core/index.js';

/**
 * Every CR_* value 0x00–0x3B of cfgmgr32.h, including the header's alias names
 * (CR_INVALID_DEVINST = CR_INVALID_DEVNODE, CR_NO_SUCH_DEVINST = CR_NO_SUCH_DEVNODE, ...).
 */
export const CONFIGRET = {
  CR_SUCCESS: 0x00,
  CR_DEFAULT: 0x01,
  CR_OUT_OF_MEMORY: 0x02,
  CR_INVALID_POINTER: 0x03,
  CR_INVALID_FLAG: 0x04,
  CR_INVALID_DEVNODE: 0x05,
  CR_INVALID_DEVINST: 0x05,
  CR_INVALID_RES_DES: 0x06,
  CR_INVALID_LOG_CONF: 0x07,
  CR_INVALID_ARBITRATOR: 0x08,
  CR_INVALID_NODELIST: 0x09,
  CR_DEVNODE_HAS_REQS: 0x0a,
  CR_DEVINST_HAS_REQS: 0x0a,
  CR_INVALID_RESOURCEID: 0x0b,
  CR_DLVXD_NOT_FOUND: 0x0c, // Windows 95 only
  CR_NO_SUCH_DEVNODE: 0x0d,
  CR_NO_SUCH_DEVINST: 0x0d,
  CR_NO_MORE_LOG_CONF: 0x0e,
  CR_NO_MORE_RES_DES: 0x0f,
  CR_ALREADY_SUCH_DEVNODE: 0x10,
  CR_ALREADY_SUCH_DEVINST: 0x10,
  CR_INVALID_RANGE_LIST: 0x11,
  CR_INVALID_RANGE: 0x12,
  CR_FAILURE: 0x13,
  CR_NO_SUCH_LOGICAL_DEV: 0x14,
  CR_CREATE_BLOCKED: 0x15,
  CR_NOT_SYSTEM_VM: 0x16, // Windows 95 only
  CR_REMOVE_VETOED: 0x17,
  CR_APM_VETOED: 0x18,
  CR_INVALID_LOAD_TYPE: 0x19,
  CR_BUFFER_SMALL: 0x1a,
  CR_NO_ARBITRATOR: 0x1b,
  CR_NO_REGISTRY_HANDLE: 0x1c,
  CR_REGISTRY_ERROR: 0x1d,
  CR_INVALID_DEVICE_ID: 0x1e,
  CR_INVALID_DATA: 0x1f,
  CR_INVALID_API: 0x20,
  CR_DEVLOADER_NOT_READY: 0x21,
  CR_NEED_RESTART: 0x22,
  CR_NO_MORE_HW_PROFILES: 0x23,
  CR_DEVICE_NOT_THERE: 0x24,
  CR_NO_SUCH_VALUE: 0x25,
  CR_WRONG_TYPE: 0x26,
  CR_INVALID_PRIORITY: 0x27,
  CR_NOT_DISABLEABLE: 0x28,
  CR_FREE_RESOURCES: 0x29,
  CR_QUERY_VETOED: 0x2a,
  CR_CANT_SHARE_IRQ: 0x2b,
  CR_NO_DEPENDENT: 0x2c,
  CR_SAME_RESOURCES: 0x2d,
  CR_NO_SUCH_REGISTRY_KEY: 0x2e,
  CR_INVALID_MACHINENAME: 0x2f,
  CR_REMOTE_COMM_FAILURE: 0x30,
  CR_MACHINE_UNAVAILABLE: 0x31,
  CR_NO_CM_SERVICES: 0x32,
  CR_ACCESS_DENIED: 0x33,
  CR_CALL_NOT_IMPLEMENTED: 0x34,
  CR_INVALID_PROPERTY: 0x35,
  CR_DEVICE_INTERFACE_ACTIVE: 0x36,
  CR_NO_SUCH_DEVICE_INTERFACE: 0x37,
  CR_INVALID_REFERENCE_STRING: 0x38,
  CR_INVALID_CONFLICT_LIST: 0x39,
  CR_INVALID_INDEX: 0x3a,
  CR_INVALID_STRUCTURE_SIZE: 0x3b,
} as const;

/** A name of {@link CONFIGRET}. */
export type ConfigRetName = keyof typeof CONFIGRET;

/** NUM_CR_RESULTS: one past the last CR_* value. */
export const NUM_CR_RESULTS = 0x3c;

/**
 * The name reported for an aliased value: the DEVINST spelling, which current docs use and which the
 * harness predicates (`isGone`: CR_NO_SUCH_DEVINST) match on.
 */
const PREFERRED_ALIAS: ReadonlySet<string> = new Set([
  'CR_INVALID_DEVINST',
  'CR_DEVINST_HAS_REQS',
  'CR_NO_SUCH_DEVINST',
  'CR_ALREADY_SUCH_DEVINST',
]);

const CR_NAME_BY_VALUE: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  for (const [name, value] of Object.entries(CONFIGRET)) {
    if (!m.has(value) || PREFERRED_ALIAS.has(name)) m.set(value, name);
  }
  return m;
})();

/**
 * The cfgmgr32.h name of a CONFIGRET value (DEVINST spelling for aliases), or `UNKNOWN_CONFIGRET`.
 * @example configRetName(0x1a) // 'CR_BUFFER_SMALL'
 */
export function configRetName(cr: number): string {
  return CR_NAME_BY_VALUE.get(cr) ?? 'UNKNOWN_CONFIGRET';
}

const CR_HINT: Readonly<Partial<Record<ConfigRetName, string>>> = {
  CR_BUFFER_SMALL: 'the interface list grew after the size query; query the size again and retry',
  CR_INVALID_DATA: 'an argument is malformed (e.g. the interface class GUID); check the InterfaceGUID registry value',
  CR_INVALID_POINTER: 'a required pointer argument was NULL (or the registration was already unregistered)',
  CR_INVALID_FLAG: 'unknown flag bits; use only the documented CM_* flags',
  CR_NO_SUCH_DEVICE_INTERFACE: 'the device interface is gone; wait for its arrival again',
  CR_NO_SUCH_DEVINST: 'the device instance is gone; wait for it to be enumerated again',
  CR_FAILURE: 'Configuration Manager failed without a specific reason',
};

/** Extra context for {@link configRetError}. */
export interface ConfigRetErrorExtra {
  readonly target?: string | undefined;
  /** Why and how to fix; defaults to a stock hint for well-known codes. */
  readonly detail?: string | undefined;
  readonly cause?: unknown;
}

/**
 * Builds the harness {@link ConfigRetError} for `api` returning `cr`, with the name resolved.
 * @example throw configRetError('CM_Get_Device_Interface_ListW', CONFIGRET.CR_BUFFER_SMALL)
 */
export function configRetError(api: string, cr: number, extra: ConfigRetErrorExtra = {}): ConfigRetError {
  const crName = configRetName(cr);
  return new ConfigRetError(
    { api, cr, crName, target: extra.target, detail: extra.detail ?? CR_HINT[crName as ConfigRetName] },
    extra.cause === undefined ? undefined : { cause: extra.cause },
  );
}
