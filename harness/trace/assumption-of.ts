/**
 * Which inferred behaviour (docs/reference/documented-vs-inferred.md) a comparison of a recorded call with
 * its replay confirms or refutes. A comparison that touches none is filed under {@link NO_ASSUMPTION}
 * (documented behaviour, or a difference the table has no row for).
 */
import { CM_NOTIFY_ACTION, type IoctlLine, type UsbfnNotification } from '../../device-side/index.js';
import type { LineContext } from './replay-plan.js';

/** The group of comparisons that touch no assumption id. */
export const NO_ASSUMPTION = 'no-assumption';

/** The field of a call that was compared. */
export type ComparedField = 'status' | 'bytesReturned' | 'output' | 'completion';

/** The id for a Win32 error one side returned (the inferred error codes of the driver table). */
const BY_WIN32: ReadonlyMap<number, string> = new Map([
  [1, 'drv-unknown-ioctl'],
  [5, 'drv-access-bits'],
  [22, 'drv-invalid-state'],
  [50, 'drv-deactivate-code'],
  [122, 'drv-output-length'],
  [234, 'drv-out-overflow'],
  [995, 'drv-purge-cancelled'],
  [1617, 'drv-removed-while-open'],
]);

/** The assumption an IOCTL comparison touches. */
export function ioctlAssumption(line: IoctlLine, context: LineContext | undefined, field: ComparedField, win32: readonly (number | undefined)[]): string {
  const name = line.name.replace('IOCTL_GENERICUSBFN_', '');
  if (field === 'bytesReturned' && (name === 'BUS_EVENT_NOTIFICATION' || name.startsWith('GET_CLASS_INFO'))) return 'drv-bytes-returned';
  if (name.startsWith('GET_CLASS_INFO')) return field === 'output' ? 'drv-pipe-ids' : 'drv-early-ioctls';
  if (name.startsWith('CONTROL_STATUS_HANDSHAKE')) return context?.setup?.wLength === 0 ? 'drv-no-data-handshake' : 'link-ep0-misuse';
  if ((name === 'TRANSFER_IN' || name === 'TRANSFER_IN_APPEND_ZERO_PKT') && (line.outputSize ?? 0) === 0) return 'link-zero-length-in';
  if ((name === 'GET_PIPE_STATE' || name === 'SET_PIPE_STATE') && context?.ep0 === true) return 'drv-pipe-state-ep0';
  if (name === 'GET_INTERFACE_DESCRIPTOR_SET') return 'drv-descriptor-set-size';
  if (name === 'REGISTER_USB_STRING') return 'drv-register-string';
  for (const code of win32) {
    if (code === undefined || code === 0) continue;
    if (code === 87) return context?.ep0 === false ? 'drv-bad-pipe' : 'drv-input-length';
    const id = BY_WIN32.get(code);
    if (id !== undefined) return id;
  }
  return NO_ASSUMPTION;
}

/** The assumption a bus-event comparison touches: what the function hears while the host enumerates, a detach, or none. */
export function busEventAssumption(event: UsbfnNotification | undefined, enumeration: boolean): string {
  if (enumeration) return 'drv-enumeration-events';
  if (event?.type === 'detach') return 'drv-detach-event';
  return NO_ASSUMPTION;
}

const A = CM_NOTIFY_ACTION;
const ARRIVAL: ReadonlySet<number> = new Set([A.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL, A.CM_NOTIFY_ACTION_DEVICEINSTANCEENUMERATED, A.CM_NOTIFY_ACTION_DEVICEINSTANCESTARTED]);
const REMOVAL: ReadonlySet<number> = new Set([
  A.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE,
  A.CM_NOTIFY_ACTION_DEVICEQUERYREMOVEFAILED,
  A.CM_NOTIFY_ACTION_DEVICEREMOVEPENDING,
  A.CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE,
  A.CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL,
  A.CM_NOTIFY_ACTION_DEVICEINSTANCEREMOVED,
]);

/** The assumption a CM notification comparison touches: the order on arrival, on removal, or the event data of handle actions. */
export function notificationAssumption(action: number, field: 'order' | 'data'): string {
  if (field === 'data') return action === A.CM_NOTIFY_ACTION_DEVICECUSTOMEVENT ? NO_ASSUMPTION : 'cm-handle-event-data';
  if (ARRIVAL.has(action)) return 'cm-arrival-order';
  if (REMOVAL.has(action)) return 'cm-removal-order';
  return NO_ASSUMPTION;
}

/** Whether a query-remove was asked in the trace, and whether a recorded callback vetoed it. */
export interface QueryRemoveContext {
  readonly asked: boolean;
  readonly vetoedByCallback: boolean;
}

/**
 * DEVICEREMOVEPENDING and DEVICEQUERYREMOVEFAILED after a query-remove no callback vetoed are its outcome:
 * whether the open handles counted as closed when the callbacks returned (cm-open-handle-veto). Undefined
 * for any other notification.
 */
export function queryRemoveOutcomeAssumption(action: number, queryRemove: QueryRemoveContext): string | undefined {
  const outcome = action === A.CM_NOTIFY_ACTION_DEVICEREMOVEPENDING || action === A.CM_NOTIFY_ACTION_DEVICEQUERYREMOVEFAILED;
  return outcome && queryRemove.asked && !queryRemove.vetoedByCallback ? 'cm-open-handle-veto' : undefined;
}

/**
 * The assumption a notification only one side has touches: a query-remove that ended otherwise is
 * cm-open-handle-veto's; anything else is the removal or arrival order's.
 */
export function presenceAssumption(action: number, queryRemove: QueryRemoveContext): string {
  return queryRemoveOutcomeAssumption(action, queryRemove) ?? notificationAssumption(action, 'order');
}
