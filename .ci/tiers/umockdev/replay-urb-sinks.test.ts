import { describe, expect, it } from 'vitest';
import type { UrbEvent, UrbSink } from '../../../simulator/index.js';
import { Relocate, SplitZeroPacketUrbs, URB_ZERO_PACKET, UrbGate } from './replay-urb-sinks.js';

class Collect implements UrbSink {
  readonly events: UrbEvent[] = [];
  record(e: UrbEvent): void {
    this.events.push(e);
  }
}

const bulkOut = (urbId: number, kind: 'S' | 'C', length: number, flags = 0): UrbEvent => ({
  urbId,
  kind,
  transferType: 'bulk',
  endpoint: 0x01,
  deviceAddress: 3,
  busNumber: 2,
  timeUs: 10,
  status: kind === 'S' ? -115 : 0,
  length,
  data: kind === 'S' ? new Uint8Array(length) : undefined,
  transferFlags: flags,
});

describe('SplitZeroPacketUrbs', () => {
  it('splits a URB_ZERO_PACKET bulk OUT of a multiple of wMaxPacketSize into payload and ZLP URBs', () => {
    const out = new Collect();
    const split = new SplitZeroPacketUrbs(out, 512);
    split.record(bulkOut(5, 'S', 1024, URB_ZERO_PACKET));
    split.record(bulkOut(5, 'C', 1024, URB_ZERO_PACKET));
    expect(out.events.map((e) => [e.kind, e.urbId, e.length, e.transferFlags & URB_ZERO_PACKET, e.data?.length])).toEqual([
      ['S', 5, 1024, 0, 1024],
      ['S', 5 + 0x1_0000_0000, 0, 0, undefined],
      ['C', 5, 1024, 0, undefined],
      ['C', 5 + 0x1_0000_0000, 0, 0, undefined],
    ]);
  });

  it('leaves short payloads, IN URBs and URBs without the flag alone', () => {
    const out = new Collect();
    const split = new SplitZeroPacketUrbs(out, 512);
    const events = [
      bulkOut(1, 'S', 100, URB_ZERO_PACKET),
      bulkOut(1, 'C', 100),
      bulkOut(2, 'S', 1024),
      bulkOut(2, 'C', 1024),
      { ...bulkOut(3, 'S', 1024, URB_ZERO_PACKET), endpoint: 0x81 },
    ];
    for (const e of events) split.record(e);
    expect(out.events).toEqual(events);
  });
});

describe('UrbGate and Relocate', () => {
  it('passes events only while open, moved to the given bus and address', () => {
    const out = new Collect();
    const gate = new UrbGate(new Relocate(out, 1, 7));
    gate.record(bulkOut(1, 'S', 4));
    gate.open = true;
    gate.record(bulkOut(2, 'S', 4));
    gate.open = false;
    gate.record(bulkOut(3, 'S', 4));
    expect(out.events.map((e) => [e.urbId, e.busNumber, e.deviceAddress])).toEqual([[2, 1, 7]]);
  });
});
