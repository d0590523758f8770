import { describe, expect, it } from 'vitest';
import type { UrbEvent } from '../../simulator/index.js';
import { renderTimelineSvg } from './timeline-svg.js';
import { cmLogItems, deviceLogItems, driverLogItems, urbItems } from './timeline-sources.js';
import type { TimelineItem } from './timeline-model.js';

const urb = (e: Partial<UrbEvent> & Pick<UrbEvent, 'urbId' | 'kind' | 'timeUs'>): UrbEvent => ({
  transferType: 'bulk',
  endpoint: 0x81,
  deviceAddress: 1,
  busNumber: 1,
  status: e.kind === 'S' ? -115 : 0,
  length: 512,
  transferFlags: 0,
  ...e,
});

describe('timeline sources', () => {
  it('pairs URB submissions with completions and marks stalls, ZLPs, cancels and pending URBs', () => {
    const setup = Uint8Array.of(0x80, 0x06, 0x00, 0x01, 0, 0, 18, 0);
    const items = urbItems([
      urb({ urbId: 1, kind: 'S', timeUs: 0, transferType: 'control', endpoint: 0x80, setup, length: 18 }),
      urb({ urbId: 1, kind: 'C', timeUs: 250, transferType: 'control', endpoint: 0x80, length: 18 }),
      urb({ urbId: 2, kind: 'S', timeUs: 1000 }),
      urb({ urbId: 2, kind: 'C', timeUs: 1500, status: -32, length: 0 }),
      urb({ urbId: 3, kind: 'S', timeUs: 2000 }),
      urb({ urbId: 3, kind: 'C', timeUs: 2100, length: 0 }),
      urb({ urbId: 4, kind: 'S', timeUs: 3000 }),
      urb({ urbId: 4, kind: 'C', timeUs: 4000, status: -104, length: 100 }),
      urb({ urbId: 5, kind: 'S', timeUs: 5000 }),
    ]);
    expect(items.map((i) => [i.mark, i.startMs, i.endMs])).toEqual([
      ['ok', 0, 0.25],
      ['stall', 1, 1.5],
      ['zlp', 2, 2.1],
      ['cancelled', 3, 4],
      ['info', 5, 5],
    ]);
    expect(items[0]!.label).toBe('GET_DESCRIPTOR(DEVICE, 18) 18 B');
    expect(items[1]!.label).toContain('EPIPE');
    expect(items[4]!.label).toContain('(pending)');
  });

  it('puts bus events on the bus lane and service errors on the service lane', () => {
    const items = deviceLogItems([
      { timeMs: 1, level: 'info', kind: 'busEvent', detail: { event: 'reset', speed: 'high' } },
      { timeMs: 2, level: 'error', kind: 'transferFailed', error: { name: 'Win32Error', code: 'WIN32', message: 'boom', data: {} } },
    ]);
    expect(items.map((i) => [i.lane, i.label, i.mark])).toEqual([
      ['bus', 'reset', 'info'],
      ['service', 'transferFailed', 'error'],
    ]);
    expect(items[1]!.detail).toContain('WIN32: boom');
  });

  it('draws IOCTLs as spans and CM deliveries as instants', () => {
    const d = driverLogItems([
      { kind: 'ioctl', timeMs: 5, submittedMs: 1, handle: 1, ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_IN', pipe: 1, bytes: 512, bytesReturned: 0, win32: 995, outcome: 'ERROR_OPERATION_ABORTED' },
      { kind: 'busEvent', timeMs: 5, handle: 1, event: 'reset', delivery: 'completed' },
    ]);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ lane: 'driver', startMs: 1, endMs: 5, mark: 'cancelled' });
    const c = cmLogItems([
      { kind: 'pnp', seq: 0, timeMs: 3, op: 'queryRemove', instanceId: 'USBFN\\X', outcome: 'vetoed', detail: 'handle open' },
    ]);
    expect(c[0]).toMatchObject({ lane: 'cm', mark: 'cancelled', label: 'queryRemove → vetoed' });
  });
});

describe('renderTimelineSvg', () => {
  const items: TimelineItem[] = [
    { lane: 'host', startMs: 0, endMs: 2, label: 'bulk OUT 0x01 4096 B', mark: 'ok' },
    { lane: 'host', startMs: 30_002, endMs: 30_003, label: 'bulk IN 0x81 ETIMEDOUT <&>', mark: 'error' },
    { lane: 'bus', startMs: 1, label: 'configured', mark: 'info' },
  ];

  it('is a standalone SVG with one group per lane, escaped text and hover details', () => {
    const svg = renderTimelineSvg(items, { title: 'a & b' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<g class="lane"/g)).toHaveLength(2);
    expect(svg).toContain('a &amp; b');
    expect(svg).toContain('ETIMEDOUT &lt;&amp;&gt;');
    expect(svg).not.toContain('<&>');
    expect(svg).toContain('<title>');
  });

  it('cuts a long idle gap out of the axis and labels it', () => {
    const svg = renderTimelineSvg(items);
    expect(svg).toMatch(/class="break".*⋯ 30\.0 s/s);
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    expect(width).toBeLessThan(1200 + 150 + 300);
  });

  it('counts what it does not draw instead of dropping it silently', () => {
    const many: TimelineItem[] = Array.from({ length: 30 }, (_, k) => ({ lane: 'driver', startMs: k, endMs: k + 0.5, label: `TRANSFER_OUT ${k}`, mark: 'ok' }));
    const svg = renderTimelineSvg(many, { maxItemsPerLane: 10 });
    expect(svg.match(/class="mark mark-ok"/g)).toHaveLength(10);
    expect(svg).toContain('+20 not drawn');
  });

  it('says so when nothing was recorded', () => {
    expect(renderTimelineSvg([])).toContain('nothing was recorded');
  });
});
