/**
 * The complete example of docs/function-api.md, run as a test so the documentation's code is checked:
 * the regions between `#region` / `#endregion` below appear verbatim in the document (the last test
 * checks that), and the other tests run them over the simulation.
 *
 * @see docs/function-api.md
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serviceWorld, until, type ServiceWorld } from './testing/index.js';

// #region counter-function
import type { FunctionContext, UsbFunction } from '../../device-side/index.js';

/** Class requests of the counter function (bmRequestType 0xA1 / 0x21, wIndex = its interface number). */
export const COUNTER_REQUEST = {
  /** IN, wLength ≥ 4: u32 LE, bytes echoed since the last reset. */
  GET_COUNT: 0x01,
  /** OUT, 4-byte data stage: u32 LE added to the count (a wrong length stalls the status stage). */
  ADD: 0x02,
  /** No data stage: count back to 0. */
  RESET: 0x03,
} as const;

export interface CounterFunction extends UsbFunction {
  /** Bytes echoed since the last RESET. */
  readonly count: () => number;
  /** Why each configuration ended ('reset', 'detach', 'unConfigured', 'closed', 'stopped'). */
  readonly ended: string[];
}

/** A vendor function: class requests on EP0 plus a bulk echo with two OUT transfers queued. */
export function createCounterFunction(): CounterFunction {
  let count = 0;
  const ended: string[] = [];
  return {
    name: 'counter',
    count: () => count,
    ended,
    // Matched against GET_CLASS_INFO in declaration order: the first bulk OUT and the first bulk IN pipe.
    pipes: { rx: { direction: 'out' }, tx: { direction: 'in' } },

    onSetup(setup) {
      const isIn = (setup.bmRequestType & 0x80) !== 0;
      switch (setup.bRequest) {
        case COUNTER_REQUEST.GET_COUNT: {
          if (!isIn || setup.wLength < 4) return { stage: 'stall' };
          const data = new Uint8Array(4);
          new DataView(data.buffer).setUint32(0, count, true);
          // TRANSFER_IN on pipe 0, then CONTROL_STATUS_HANDSHAKE_OUT.
          return { stage: 'in', data };
        }
        case COUNTER_REQUEST.ADD:
          if (isIn || setup.wLength !== 4) return { stage: 'stall' };
          // TRANSFER_OUT of wLength bytes on pipe 0, then CONTROL_STATUS_HANDSHAKE_IN (or a stall).
          return {
            stage: 'out',
            onData: (d) => {
              if (d.byteLength !== 4) return 'stall';
              count += new DataView(d.buffer, d.byteOffset, 4).getUint32(0, true);
            },
          };
        case COUNTER_REQUEST.RESET:
          if (setup.wLength !== 0) return { stage: 'stall' };
          count = 0;
          return { stage: 'none' }; // status handshake only
        default:
          return { stage: 'stall' }; // SET_PIPE_STATE(pipe 0, TRUE)
      }
    },

    onConfigured(ctx: FunctionContext) {
      // Valid until ctx.signal aborts (reset, detach, SET_CONFIGURATION(0), removal, stop).
      ctx.runQueue('rx', { depth: 2, bufferBytes: 64 * 1024 }, async (data) => {
        try {
          // A ZLP follows a payload that is a multiple of wMaxPacketSize, so the host's read ends.
          count += await ctx.transferIn('tx', data, { appendZeroLengthPacket: true });
        } catch (err) {
          if (!ctx.signal.aborted) ctx.fail(err as Error, 'echo');
        }
      });
    },

    onDeconfigured(reason) {
      // Pending transfers were cancelled (ERROR_OPERATION_ABORTED); wait for onConfigured again.
      ended.push(reason);
    },
  };
}
// #endregion counter-function

// #region run-in-simulator
import { simWorld } from './sim-world.js';

describe('the counter function over the simulator', () => {
  it('answers its class requests and echoes bulk data', async () => {
    // One simulated device (the test function's USBFN configuration) and its host, on a virtual clock. The
    // real service runs the function: register → list → open → GET_CLASS_INFO → ACTIVATE_USB_BUS.
    const fn = createCounterFunction();
    await using world = await simWorld().withSeed(42).withFunction(fn).start();

    // The host side: enumerate, open, claim the function's interface, wait until the device is configured,
    // and read its bulk endpoints from the device (GET_DESCRIPTOR(CONFIGURATION)).
    const agent = await world.agent({ timeoutMs: 2_000 });
    const handle = agent.handle;

    // Bulk echo (raw handle).
    await handle.bulkOut(agent.bulkOutEndpoint, Uint8Array.of(1, 2, 3));
    const echo = await handle.bulkIn(agent.bulkInEndpoint, 512);
    expect([...echo.data]).toEqual([1, 2, 3]);

    // Class requests (HostAgent builds bmRequestType = class | interface, wIndex = interface number).
    const add = new Uint8Array(4);
    new DataView(add.buffer).setUint32(0, 10, true);
    await expect(agent.classOut(COUNTER_REQUEST.ADD, add)).resolves.toMatchObject({ status: 'ok' });
    const count = await agent.classIn(COUNTER_REQUEST.GET_COUNT, 4);
    expect(new DataView(count.data.buffer, count.data.byteOffset).getUint32(0, true)).toBe(13);
    await expect(agent.classNoData(COUNTER_REQUEST.RESET)).resolves.toMatchObject({ status: 'ok' });
    await expect(agent.classIn(0x7f, 4)).resolves.toMatchObject({ status: 'stall' }); // unknown: stalled

    await world.device.stopService(); // cancel I/O, unregister, close
    expect(fn.ended).toEqual(['stopped']);
  });
});
// #endregion run-in-simulator

describe('the counter function: more of the function API', () => {
  const world = async (): Promise<ServiceWorld<CounterFunction>> => await serviceWorld(createCounterFunction());

  it('stalls ADD with a wrong-length data stage and GET_COUNT sent as OUT', async () => {
    await using w = await world();
    await w.service.start();
    const { agent } = await w.connectHost();
    await expect(agent.classOut(COUNTER_REQUEST.ADD, Uint8Array.of(1, 2))).resolves.toMatchObject({ status: 'stall' });
    await expect(agent.classOut(COUNTER_REQUEST.GET_COUNT, Uint8Array.of(0, 0, 0, 0))).resolves.toMatchObject({ status: 'stall' });
    expect(w.fn.count()).toBe(0);
  });

  it('echoes an exact multiple of wMaxPacketSize with a ZLP and keeps two OUT transfers queued', async () => {
    await using w = await world();
    await w.service.start();
    const { handle } = await w.connectHost();
    const data = new Uint8Array(1024).fill(0x5a);
    await handle.bulkOut(0x01, data, { zeroLengthPacket: true });
    await expect(handle.bulkIn(0x81, 4096)).resolves.toMatchObject({ status: 'ok', data });
    expect(w.fn.count()).toBe(1024);
    expect(w.port.calls.filter((c) => c === 'TRANSFER_OUT').length).toBeGreaterThanOrEqual(2);
  });

  it('sees its configuration end on a host reset and start again; the echo works after it', async () => {
    await using w = await world();
    await w.service.start();
    const { handle } = await w.connectHost();
    await handle.reset();
    await handle.claimInterface(0);
    await w.service.whenConfigured({ timeoutMs: 1_000 });
    expect(w.fn.ended).toEqual(['reset']);
    await handle.bulkOut(0x01, Uint8Array.of(9));
    await expect(handle.bulkIn(0x81, 64)).resolves.toMatchObject({ data: Uint8Array.of(9) });
  });

  it('sees its configuration end on detach, and a new one after re-attach', async () => {
    await using w = await world();
    await w.startConfigured();
    w.simulation.detach();
    await until(w.simulation, () => w.fn.ended.length > 0, 'end of the configuration');
    expect(w.fn.ended).toEqual(['detach']);
    expect(w.service.state).toBe('active'); // the handle stays open: the cable comes back, the host configures again
    w.simulation.attach();
    await w.service.whenConfigured({ timeoutMs: 1_000 });
  });

  it('the document shows exactly this code', () => {
    const doc = readFileSync(new URL('../../docs/function-api.md', import.meta.url), 'utf8');
    const self = readFileSync(new URL(import.meta.url), 'utf8');
    for (const name of ['counter-function', 'run-in-simulator']) {
      const m = new RegExp(`// #region ${name}\\n([\\s\\S]*?)// #endregion ${name}`).exec(self);
      expect(m, `region ${name}`).not.toBeNull();
      expect(doc.includes(m![1]!.trimEnd()), `docs/function-api.md contains region ${name} verbatim`).toBe(true);
    }
  });
});
