/**
 * Names a fault request may use for an IOCTL or a CM notification action, resolved to the header names:
 * `TRANSFER_OUT`, `ioctl_genericusbfn_transfer_out` and `IOCTL_GENERICUSBFN_TRANSFER_OUT` are one IOCTL;
 * `DEVICEQUERYREMOVE` and `CM_NOTIFY_ACTION_DEVICEQUERYREMOVE` one action.
 */
import { UsageError } from '../../../core/index.js';
import { CM_NOTIFY_ACTION, IOCTL_TABLE, type CmNotifyActionName, type IoctlInfo } from '../../abi/index.js';

const IOCTL_PREFIX = 'IOCTL_GENERICUSBFN_';
const ACTION_PREFIX = 'CM_NOTIFY_ACTION_';

/**
 * The IOCTL a fault names.
 * @throws UsageError FAULT_UNKNOWN_IOCTL listing the names genericusbfnioctl.h defines.
 */
export function resolveIoctl(text: string): IoctlInfo {
  const upper = text.trim().toUpperCase();
  const full = upper.startsWith(IOCTL_PREFIX) ? upper : IOCTL_PREFIX + upper;
  const info = IOCTL_TABLE.find((i) => i.name === full);
  if (info === undefined) {
    throw new UsageError(
      'FAULT_UNKNOWN_IOCTL',
      `'${text}' is not a GenericUSBFn IOCTL: use one of ${IOCTL_TABLE.map((i) => i.name.slice(IOCTL_PREFIX.length)).join(', ')} (with or without the ${IOCTL_PREFIX} prefix)`,
      { ioctl: text },
    );
  }
  return info;
}

/**
 * The CM_NOTIFY_ACTION a fault names.
 * @throws UsageError FAULT_UNKNOWN_ACTION listing the actions cfgmgr32.h defines.
 */
export function resolveCmAction(text: string): { readonly name: CmNotifyActionName; readonly value: number } {
  const upper = text.trim().toUpperCase();
  const full = (upper.startsWith(ACTION_PREFIX) ? upper : ACTION_PREFIX + upper) as CmNotifyActionName;
  if (full === 'CM_NOTIFY_ACTION_MAX' || !Object.hasOwn(CM_NOTIFY_ACTION, full)) {
    const names = Object.keys(CM_NOTIFY_ACTION).filter((n) => n !== 'CM_NOTIFY_ACTION_MAX');
    throw new UsageError(
      'FAULT_UNKNOWN_ACTION',
      `'${text}' is not a CM notification action: use one of ${names.map((n) => n.slice(ACTION_PREFIX.length)).join(', ')} (with or without the ${ACTION_PREFIX} prefix)`,
      { action: text },
    );
  }
  return { name: full, value: CM_NOTIFY_ACTION[full] };
}
