/** The CM_NOTIFY_EVENT_DATA payloads the simulated Configuration Manager delivers, per filter type (docs/reference/structs.md#cm-notify-event-data). */
import { encodeCmNotifyEventData } from '../../device-side/index.js';
import type { InterfaceRecord } from './device-incarnation.js';

/** An empty payload (DataSize 0). */
export const EMPTY = new Uint8Array(0);

/** CM_NOTIFY_EVENT_DATA of a DEVICEINTERFACE action. */
export function interfaceEvent(rec: InterfaceRecord): Uint8Array {
  return encodeCmNotifyEventData({ filterType: 'deviceInterface', classGuid: rec.classGuid, symbolicLink: rec.symbolicLink });
}

/** CM_NOTIFY_EVENT_DATA of a DEVICEINSTANCE action. */
export function instanceEvent(instanceId: string): Uint8Array {
  return encodeCmNotifyEventData({ filterType: 'deviceInstance', instanceId });
}

/**
 * CM_NOTIFY_EVENT_DATA for a DEVICEHANDLE action. For every action but DEVICECUSTOMEVENT:
 * ASSUMPTION(cm-handle-event-data): the union is documented for custom events only; EventGuid is GUID_NULL,
 * NameOffset 0 and DataSize 0.
 */
export function handleEvent(eventGuid: string, nameOffset: number, data: Uint8Array): Uint8Array {
  return encodeCmNotifyEventData({ filterType: 'deviceHandle', eventGuid, nameOffset, data });
}
