/**
 * A small function that records every callback the service makes, for the service's lifecycle tests.
 * Test support, not a test file.
 */
import type { SetupPacket } from '../../../core/index.js';
import type { FunctionContext, SetupReply, UsbFunction } from '../../../device-side/index.js';

/** What {@link probeFunction} saw, in order (`configured:1`, `deconfigured:reset`, `setup:0x10`, ...). */
export interface ProbeFunction extends UsbFunction {
  readonly events: string[];
  /** The context of the current configuration, if any. */
  ctx: FunctionContext | undefined;
  /** Every context handed out, oldest first. */
  readonly contexts: FunctionContext[];
  /** The last OUT data stage received by request 0x11. */
  lastOut: Uint8Array | undefined;
  /** What onQueryRemove answers. */
  queryRemoveVerdict: 'allow' | 'veto';
  readonly customEvents: { eventGuid: string; data: Uint8Array; nameOffset: number }[];
}

/** Requests the probe answers: 0x10 IN (3 bytes), 0x11 OUT (data kept), 0x12 no data, 0x13 OUT stalled after the data stage. */
export const PROBE_REQUEST = { IN: 0x10, OUT: 0x11, NO_DATA: 0x12, OUT_THEN_STALL: 0x13 } as const;

/** A function on bulk OUT 0x01 / bulk IN 0x81 with no queues, recording each callback. */
export function probeFunction(): ProbeFunction {
  const probe: ProbeFunction = {
    name: 'probe',
    events: [],
    ctx: undefined,
    contexts: [],
    lastOut: undefined,
    queryRemoveVerdict: 'allow',
    customEvents: [],
    pipes: { out: { direction: 'out' }, in: { direction: 'in' } },
    onSetup(setup: SetupPacket): SetupReply {
      probe.events.push(`setup:0x${setup.bRequest.toString(16)}`);
      switch (setup.bRequest) {
        case PROBE_REQUEST.IN:
          return { stage: 'in', data: Uint8Array.of(0xc0, 0xff, 0xee) };
        case PROBE_REQUEST.OUT:
          return {
            stage: 'out',
            onData: (d) => {
              probe.lastOut = d.slice();
            },
          };
        case PROBE_REQUEST.NO_DATA:
          return { stage: 'none' };
        case PROBE_REQUEST.OUT_THEN_STALL:
          return { stage: 'out', onData: () => 'stall' };
        default:
          return { stage: 'stall' };
      }
    },
    onConfigured(ctx, value) {
      probe.ctx = ctx;
      probe.contexts.push(ctx);
      probe.events.push(`configured:${value}:${ctx.speed}`);
    },
    onDeconfigured(reason) {
      probe.ctx = undefined;
      probe.events.push(`deconfigured:${reason}`);
    },
    onSuspend() {
      probe.events.push('suspend');
    },
    onResume() {
      probe.events.push('resume');
    },
    onSetInterface(n, alt) {
      probe.events.push(`setInterface:${n}/${alt}`);
    },
    onQueryRemove() {
      probe.events.push(`queryRemove:${probe.queryRemoveVerdict}`);
      return probe.queryRemoveVerdict;
    },
    onCustomEvent(eventGuid, data, nameOffset) {
      probe.events.push('customEvent');
      probe.customEvents.push({ eventGuid, data: data.slice(), nameOffset });
    },
  };
  return probe;
}
