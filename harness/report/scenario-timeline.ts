/**
 * A scenario's timeline from what every world has (the usbmon capture and the device event log) plus what
 * the world adds (sim: driver IOCTLs and CM deliveries). A capture that cannot be read costs its lane, not
 * the scenario: the timeline says so instead.
 */
import type { DeviceLogEntry } from '../../device-side/index.js';
import { readUsbmonPcap } from '../../simulator/index.js';
import type { TimelineItem } from './timeline-model.js';
import { deviceLogItems, urbItems } from './timeline-sources.js';

export async function scenarioTimeline(
  pcap: Uint8Array,
  deviceLog: unknown,
  world: { timelineExtras?(): Promise<readonly TimelineItem[]> },
): Promise<TimelineItem[]> {
  const items: TimelineItem[] = [];
  if (pcap.length > 24) {
    try {
      items.push(...urbItems(readUsbmonPcap(pcap)));
    } catch (err) {
      items.push({ lane: 'host', startMs: 0, label: 'capture unreadable', detail: (err as Error).message, mark: 'error' });
    }
  }
  const entries = (deviceLog as { entries?: readonly DeviceLogEntry[] } | undefined)?.entries;
  if (Array.isArray(entries)) items.push(...deviceLogItems(entries));
  if (world.timelineExtras !== undefined) items.push(...(await world.timelineExtras()));
  return items;
}
