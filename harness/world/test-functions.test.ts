/**
 * The built-in test functions end to end (issue 4 item 3): loopback and source/sink running on the real
 * `UsbFnService` over the simulation, driven from the host by the real `HostAgent` through the vendor test
 * protocol (device-side/functions/test-protocol.ts).
 *
 * @see docs/function-api.md; HLK "Windows USB Device" loopback, ZLP and EP0 cases
 */
import { describe, expect, it } from 'vitest';
import { createLoopbackFunction, createSourceSinkFunction, DEFAULT_PATTERN_SEED } from '../../device-side/index.js';
import { fillPattern, TEST_COUNTERS_BYTES, TEST_REQUEST, ZLP_POLICY, isTimeout } from '../../core/index.js';
import type { UrbEvent } from '../../simulator/index.js';
import { serviceWorld, until, type ServiceWorld } from './testing/index.js';

const SIZES = [0, 1, 511, 512, 513, 1024 * 1024] as const;

function pattern(seed: number, offset: number, length: number): number[] {
  const b = new Uint8Array(length);
  fillPattern(b, seed, offset);
  return [...b];
}

describe('loopback function', () => {
  for (const policy of ['APPEND_ON_MULTIPLE', 'NEVER'] as const) {
    describe(`ZLP policy ${policy}`, () => {
      for (const size of SIZES) {
        it(`echoes ${size} bytes byte-exact${size % 512 === 0 ? `, ${policy === 'NEVER' ? 'without' : 'then'} a zero-length packet` : ''}`, async () => {
          const urbs: UrbEvent[] = [];
          await using w = await serviceWorld(createLoopbackFunction(), { urbSink: { record: (e) => urbs.push(e) } });
          await w.service.start();
          const { handle, agent } = await w.connectHost();
          await agent.setZlpPolicy(policy);
          const t = w.clock.now();
          const r = await agent.loopback(size, { seed: size + 1 });
          expect(r).toMatchObject({ ok: true, bytesWritten: size, bytesRead: size, firstMismatch: -1 });
          // What ends the echo on the IN endpoint: a ZLP only for a multiple of wMaxPacketSize under APPEND
          // (or an empty transfer, which is itself one zero-length packet); otherwise its last full or short
          // packet. The loopback reads that ZLP too: its last IN URB asked for one packet more and the ZLP
          // ended it, so nothing follows the echo on the pipe.
          const zlpExpected = size === 0 || (size % 512 === 0 && policy === 'APPEND_ON_MULTIPLE');
          const bulkIn = (kind: 'S' | 'C') => urbs.filter((e) => e.transferType === 'bulk' && e.endpoint === 0x81 && e.kind === kind).at(-1)!;
          const unfilled = bulkIn('S').length - bulkIn('C').length;
          if (zlpExpected) expect(unfilled).toBe(512);
          else expect(unfilled).toBeLessThan(512);
          const after = handle.bulkIn(0x81, 512, { timeoutMs: 50 });
          expect(isTimeout(await after.catch((e: unknown) => e))).toBe(true);
          // The echo's IN request completed once the host had taken everything, ZLP included.
          const echo = w.ioctls(t).filter((e) => e.pipe === 2 && e.outcome === 'ERROR_SUCCESS');
          expect(echo.map((e) => e.ioctl)).toEqual([
            policy === 'NEVER' ? 'IOCTL_GENERICUSBFN_TRANSFER_IN' : 'IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT',
          ]);
          const c = await agent.getCounters();
          expect(c).toMatchObject({ bulkOutTransfers: 1, bulkInTransfers: 1, bulkOutBytes: BigInt(size), bulkInBytes: BigInt(size) });
        });
      }
    });
  }

  it('keeps its OUT queue going after one failed transfer, and stops it with queueStopped after 8 in a row', async () => {
    await using w = await serviceWorld(createLoopbackFunction({ depth: 2 }), { attached: false });
    w.driver.failNext({ ioctl: 'TRANSFER_OUT', win32: 31, count: 8 });
    await w.service.start();
    w.simulation.attach();
    await w.service.whenConfigured({ timeoutMs: 1_000 });
    await until(w.simulation, () => w.service.log.ofKind('queueStopped').length > 0, 'queueStopped');
    expect(w.service.log.ofKind('functionError')).toHaveLength(8);
    expect(w.service.log.ofKind('queueStopped')[0]?.error).toMatchObject({ code: 'QUEUE_STOPPED' });
    expect(w.ioctls(0, 'TRANSFER_OUT').filter((e) => e.outcome === 'ERROR_GEN_FAILURE')).toHaveLength(8);
  });

  it('echoes transfers in the order the host sent them', async () => {
    await using w = await serviceWorld(createLoopbackFunction({ depth: 3 }));
    await w.service.start();
    const { handle } = await w.connectHost();
    for (const n of [3, 1, 2]) await handle.bulkOut(0x01, new Uint8Array(n).fill(n));
    for (const n of [3, 1, 2]) await expect(handle.bulkIn(0x81, 512)).resolves.toMatchObject({ data: new Uint8Array(n).fill(n) });
  });

  it('counts an echo cancelled by a host reset in the middle of a transfer, and works after it', async () => {
    await using w = await serviceWorld(createLoopbackFunction());
    await w.service.start();
    const { handle, agent } = await w.connectHost();
    await handle.bulkOut(0x01, new Uint8Array(100)); // echoed, but the host never reads it: the IN stays pending
    await until(w.simulation, () => w.ioctls(0, 'TRANSFER_OUT').some((e) => e.bytesReturned === 100), 'OUT completion');
    const t = w.clock.now();
    await handle.reset();
    await handle.claimInterface(0);
    await w.service.whenConfigured({ timeoutMs: 1_000 });
    expect(w.ioctls(t, 'TRANSFER_IN_APPEND_ZERO_PKT').map((e) => e.outcome)).toEqual(['ERROR_OPERATION_ABORTED']);
    expect(w.ioctls(t, 'TRANSFER_OUT').every((e) => e.outcome === 'ERROR_OPERATION_ABORTED')).toBe(true);
    const c = await agent.getCounters();
    expect(c).toMatchObject({ cancelledTransfers: 1, failedTransfers: 0, bulkOutTransfers: 1, bulkInTransfers: 0 });
    await expect(agent.loopback(700, { seed: 9 })).resolves.toMatchObject({ ok: true });
  });

  it('counts an echo cancelled by detach, and nothing is issued on the pipes until configured again', async () => {
    await using w = await serviceWorld(createLoopbackFunction());
    await w.service.start();
    const { handle } = await w.connectHost();
    await handle.bulkOut(0x01, new Uint8Array(10));
    await until(w.simulation, () => w.ioctls(0, 'TRANSFER_OUT').some((e) => e.bytesReturned === 10), 'OUT completion');
    const t = w.clock.now();
    w.simulation.detach();
    await until(w.simulation, () => w.fn.state.counters.cancelledTransfers === 1, 'cancelled echo');
    await w.clock.idle();
    expect(w.ioctls(t).filter((e) => e.pipe !== undefined && e.pipe > 0).map((e) => e.outcome)).toEqual(
      expect.arrayContaining(['ERROR_OPERATION_ABORTED']),
    );
    expect(w.ioctls(t).filter((e) => e.pipe !== undefined && e.pipe > 0 && e.outcome !== 'ERROR_OPERATION_ABORTED')).toEqual([]);
    expect(w.fn.state.counters.failedTransfers).toBe(0);
  });
});

describe('source/sink function', () => {
  it('sources the seeded pattern, continuing across transfers', async () => {
    await using w = await serviceWorld(createSourceSinkFunction({ inLength: 1000 }));
    await w.service.start();
    const { agent } = await w.connectHost();
    const r = await agent.sourceRead(3000, { seed: DEFAULT_PATTERN_SEED });
    expect(r).toMatchObject({ status: 'ok', bytesRead: 3000, firstMismatch: -1 });
  });

  it('verifies sink data against the pattern and counts a corrupted write as a pattern error', async () => {
    await using w = await serviceWorld(createSourceSinkFunction());
    await w.service.start();
    const { agent } = await w.connectHost();
    const seed = DEFAULT_PATTERN_SEED;
    await agent.sinkWrite(3000, { seed, offset: 0 });
    await agent.sinkWrite(1000, { seed, offset: 3000 });
    await until(w.simulation, () => w.fn.state.counters.bulkOutTransfers === 2, 'two sink transfers');
    expect(w.fn.state.counters.patternErrors).toBe(0);
    await agent.sinkWrite(100, { seed: seed + 1, offset: 4000 }); // wrong pattern
    const c = await agent.getCounters();
    expect(c).toMatchObject({ bulkOutTransfers: 3, bulkOutBytes: 4100n, patternErrors: 1 });
    expect(w.service.log.ofKind('patternError')[0]?.detail).toMatchObject({ offset: 4000, transferBytes: 100 });
  });

  it('counts source transfers cancelled by detach as cancelled, not failed', async () => {
    await using w = await serviceWorld(createSourceSinkFunction({ depth: 2 }));
    await w.startConfigured();
    w.simulation.detach();
    await until(w.simulation, () => w.fn.state.counters.cancelledTransfers >= 2, 'cancelled source transfers');
    await w.clock.idle();
    expect(w.fn.state.counters).toMatchObject({ failedTransfers: 0, lastWin32Error: 0 });
    expect(w.service.log.ofKind('functionError')).toEqual([]);
  });

  it('SET_NEXT_IN_LENGTH sets the length of the transfers the source queues next', async () => {
    await using w = await serviceWorld(createSourceSinkFunction({ depth: 1, inLength: 1024, zlpPolicy: ZLP_POLICY.NEVER }));
    await w.service.start();
    const { handle, agent } = await w.connectHost();
    await agent.setNextInLength(100);
    const first = await handle.bulkIn(0x81, 1024);
    expect(first.data.length).toBe(1024); // queued at configuration time, before the request
    const second = await handle.bulkIn(0x81, 1024);
    expect([...second.data]).toEqual(pattern(DEFAULT_PATTERN_SEED, 1024, 100));
    await agent.setNextInLength(undefined);
    await handle.bulkIn(0x81, 1024); // the 100-byte transfer queued before the reset to default
    expect((await handle.bulkIn(0x81, 1024)).data.length).toBe(1024);
  });
});

describe('introspection requests (test protocol)', () => {
  async function loopbackWorld(): Promise<{ w: ServiceWorld<ReturnType<typeof createLoopbackFunction>> } & Awaited<ReturnType<ServiceWorld['connectHost']>>> {
    const w = await serviceWorld(createLoopbackFunction());
    await w.service.start();
    return { w, ...(await w.connectHost()) };
  }

  it('GET_COUNTERS reports control and bulk counters', async () => {
    const { w, agent } = await loopbackWorld();
    await using _ = w;
    await agent.loopback(100, { seed: 1 });
    const c = await agent.getCounters();
    expect(c).toEqual({
      controlRequests: 1,
      stalledRequests: 0,
      bulkOutTransfers: 1,
      bulkInTransfers: 1,
      bulkOutBytes: 100n,
      bulkInBytes: 100n,
      patternErrors: 0,
      cancelledTransfers: 0,
      failedTransfers: 0,
      lastWin32Error: 0,
    });
    expect((await agent.classIn(TEST_REQUEST.GET_COUNTERS, 64)).data.length).toBe(TEST_COUNTERS_BYTES);
  });

  it('GET_LAST_ERROR reports the last failed transfer: Win32 error, IOCTL function and name', async () => {
    const { w, agent, handle } = await loopbackWorld();
    await using _ = w;
    await expect(agent.getLastError()).resolves.toEqual({ win32: 0, ioctlFunction: 0, name: '' });
    w.driver.failNext({ ioctl: 'TRANSFER_IN_APPEND_ZERO_PKT', win32: 31 });
    await handle.bulkOut(0x01, new Uint8Array(10));
    await until(w.simulation, () => w.fn.state.lastError !== undefined, 'echo failure');
    await expect(agent.getLastError()).resolves.toEqual({ win32: 31, ioctlFunction: 0x04, name: 'ERROR_GEN_FAILURE' });
    await expect(agent.getLastError(10)).resolves.toMatchObject({ name: 'ER' }); // truncated to wLength
    expect(await agent.getCounters()).toMatchObject({ failedTransfers: 1, lastWin32Error: 31 });
    expect(w.service.log.ofKind('functionError')[0]?.error).toMatchObject({ name: 'Win32Error' });
    // The queue kept going: the next loopback works.
    await expect(agent.loopback(20, { seed: 2 })).resolves.toMatchObject({ ok: true });
  });

  it('ECHO_LAST_SETUP returns the previous class request', async () => {
    const { w, agent } = await loopbackWorld();
    await using _ = w;
    await agent.readPattern(5, 16);
    await expect(agent.echoLastSetup()).resolves.toEqual({ bmRequestType: 0xa1, bRequest: TEST_REQUEST.READ_PATTERN, wValue: 5, wIndex: 0, wLength: 16 });
    await expect(agent.echoLastSetup()).resolves.toMatchObject({ bRequest: TEST_REQUEST.ECHO_LAST_SETUP, wLength: 8 });
  });

  it('RESET_STATE clears counters, echo buffer, stall rules and the ZLP policy', async () => {
    const { w, agent } = await loopbackWorld();
    await using _ = w;
    await agent.loopback(10, { seed: 1 });
    await agent.echoWrite(Uint8Array.of(1, 2, 3));
    await agent.setStallPolicy(TEST_REQUEST.READ_PATTERN, 'ALWAYS');
    await agent.setZlpPolicy('NEVER');
    await agent.resetState();
    expect(w.fn.state.zlpPolicy).toBe(1);
    expect(await agent.getCounters()).toMatchObject({ controlRequests: 1, bulkOutTransfers: 0, stalledRequests: 0 });
    await expect(agent.echoRead(8)).resolves.toMatchObject({ status: 'ok', data: new Uint8Array(0) });
    await expect(agent.readPattern(0, 4)).resolves.toMatchObject({ status: 'ok' });
  });

  it('SET_STALL_POLICY ONCE stalls the next request only; ALWAYS until NEVER', async () => {
    const { w, agent } = await loopbackWorld();
    await using _ = w;
    await agent.setStallPolicy(TEST_REQUEST.ECHO_READ, 'ONCE');
    await expect(agent.echoRead(4)).resolves.toMatchObject({ status: 'stall' });
    await expect(agent.echoRead(4)).resolves.toMatchObject({ status: 'ok' });
    await agent.setStallPolicy(TEST_REQUEST.READ_PATTERN, 'ALWAYS');
    await expect(agent.readPattern(0, 4)).resolves.toMatchObject({ status: 'stall' });
    await expect(agent.readPattern(0, 4)).resolves.toMatchObject({ status: 'stall' });
    await agent.setStallPolicy(TEST_REQUEST.READ_PATTERN, 'NEVER');
    await expect(agent.readPattern(0, 4)).resolves.toMatchObject({ status: 'ok' });
    expect(await agent.getCounters()).toMatchObject({ stalledRequests: 3 });
    // A mode out of range stalls the status stage.
    await expect(agent.classOut(TEST_REQUEST.SET_STALL_POLICY, Uint8Array.of(TEST_REQUEST.ECHO_READ, 9, 0, 0))).resolves.toMatchObject({ status: 'stall' });
  });

  it('ECHO_WRITE stores a control write that ECHO_READ returns, truncated to wLength', async () => {
    const { w, agent } = await loopbackWorld();
    await using _ = w;
    const data = Uint8Array.from({ length: 300 }, (_v, i) => i & 0xff);
    await expect(agent.echoWrite(data)).resolves.toMatchObject({ status: 'ok', bytesWritten: 300 });
    await expect(agent.echoRead(512)).resolves.toMatchObject({ status: 'ok', data });
    await expect(agent.echoRead(10)).resolves.toMatchObject({ data: data.subarray(0, 10) });
    await expect(agent.echoWrite(new Uint8Array(4096).fill(7))).resolves.toMatchObject({ status: 'ok' });
    await expect(agent.classOut(TEST_REQUEST.ECHO_WRITE, new Uint8Array(4097))).resolves.toMatchObject({ status: 'stall' });
  });

  it('SET_ZLP_POLICY accepts NEVER and APPEND_ON_MULTIPLE and stalls anything else', async () => {
    const { w, agent } = await loopbackWorld();
    await using _ = w;
    await agent.setZlpPolicy('NEVER');
    expect(w.fn.state.zlpPolicy).toBe(0);
    await agent.setZlpPolicy('APPEND_ON_MULTIPLE');
    expect(w.fn.state.zlpPolicy).toBe(1);
    await expect(agent.classNoData(TEST_REQUEST.SET_ZLP_POLICY, { value: 2 })).resolves.toMatchObject({ status: 'stall' });
    expect(w.fn.state.zlpPolicy).toBe(1);
  });

  it('READ_PATTERN returns wLength bytes of the seeded pattern from offset wValue', async () => {
    const { w, agent } = await loopbackWorld();
    await using _ = w;
    const r = await agent.readPattern(100, 64);
    expect([...r.data]).toEqual(pattern(DEFAULT_PATTERN_SEED, 100, 64));
  });

  it('SET_ENDPOINT_HALT halts and un-halts a bulk endpoint through SET_PIPE_STATE', async () => {
    const { w, agent, handle } = await loopbackWorld();
    await using _ = w;
    await agent.setEndpointHalt(0x81, true);
    await expect(handle.bulkIn(0x81, 512, { timeoutMs: 100 })).resolves.toMatchObject({ status: 'stall' });
    await agent.setEndpointHalt(0x81, false);
    await handle.clearHalt(0x81); // the host resets its side of the toggle as well
    await expect(agent.loopback(64, { seed: 4 })).resolves.toMatchObject({ ok: true });
    expect(w.ioctls(0, 'SET_PIPE_STATE').filter((e) => e.pipe === 2)).toHaveLength(2);
    // An endpoint the function does not own stalls the request.
    await expect(agent.classNoData(TEST_REQUEST.SET_ENDPOINT_HALT, { value: 1, indexHigh: 0x85 })).resolves.toMatchObject({ status: 'stall' });
  });

  it('stalls requests with the wrong direction or length', async () => {
    const { w, agent } = await loopbackWorld();
    await using _ = w;
    const stalls = await Promise.all([
      agent.classOut(TEST_REQUEST.GET_COUNTERS, new Uint8Array(48)), // IN request sent as OUT
      agent.classOut(TEST_REQUEST.GET_LAST_ERROR, new Uint8Array(8)),
      agent.classIn(TEST_REQUEST.SET_NEXT_IN_LENGTH, 4), // OUT request sent as IN
      agent.classOut(TEST_REQUEST.SET_NEXT_IN_LENGTH, new Uint8Array(3)), // wrong length
      agent.classOut(TEST_REQUEST.ECHO_LAST_SETUP, new Uint8Array(8)),
      agent.classOut(TEST_REQUEST.RESET_STATE, new Uint8Array(4)), // no-data request with data
      agent.classIn(TEST_REQUEST.SET_STALL_POLICY, 4),
      agent.classOut(TEST_REQUEST.SET_STALL_POLICY, new Uint8Array(2)),
      agent.classIn(TEST_REQUEST.ECHO_WRITE, 4),
      agent.classOut(TEST_REQUEST.ECHO_READ, new Uint8Array(4)),
      agent.classIn(TEST_REQUEST.SET_ZLP_POLICY, 4),
      agent.classOut(TEST_REQUEST.READ_PATTERN, new Uint8Array(4)),
      agent.classIn(TEST_REQUEST.SET_ENDPOINT_HALT, 4),
      agent.classIn(0x7f, 4), // unknown request
    ]);
    expect(stalls.map((r) => r.status)).toEqual(new Array(stalls.length).fill('stall'));
    expect(await agent.getCounters()).toMatchObject({ controlRequests: stalls.length + 1, stalledRequests: stalls.length });
    expect(w.service.log.ofKind('setupFailed')).toEqual([]);
  });
});
