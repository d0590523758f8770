/**
 * Unit tests of the device half of the test protocol: answerTestRequest and TestFunctionState, with a small
 * fake FunctionContext. End to end over the simulation: harness/world/test-functions.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Win32Error, AbortedError, type SetupPacket, decodeTestCounters, fillPattern, STALL_MODE, TEST_REQUEST, ZLP_POLICY } from '../../core/index.js';
import type { FunctionContext, ResolvedPipe, SetupReply } from '../service/index.js';
import { answerTestRequest, TestFunctionState } from './test-requests.js';

const IN = 0xa1;
const OUT = 0x21;
const setup = (bmRequestType: number, bRequest: number, wLength = 0, wValue = 0, wIndex = 0): SetupPacket => ({
  bmRequestType,
  bRequest,
  wValue,
  wIndex,
  wLength,
});

function newState(): TestFunctionState {
  return new TestFunctionState({ zlpPolicy: ZLP_POLICY.APPEND_ON_MULTIPLE, patternSeed: 0x5eed });
}

/** A FunctionContext with one bulk IN pipe 0x81; records setStall calls and failures. */
function fakeContext(setStall: (name: string, stalled: boolean) => Promise<void> = async () => undefined) {
  const stalls: [string, boolean][] = [];
  const failures: string[] = [];
  const pipe: ResolvedPipe = { name: 'in', pipeId: 2, endpointAddress: 0x81, direction: 'in', type: 'bulk', maxPacketSize: 512 };
  const ctx: FunctionContext = {
    speed: 'high',
    signal: new AbortController().signal,
    pipe: () => pipe,
    pipeByAddress: (a) => (a === 0x81 ? pipe : undefined),
    transferIn: () => Promise.reject(new Error('unused')),
    transferOut: () => Promise.reject(new Error('unused')),
    setStall: (name, stalled) => {
      stalls.push([name, stalled]);
      return setStall(name, stalled);
    },
    getStall: async () => false,
    runQueue: () => undefined,
    log: () => undefined,
    fail: (_e, where) => failures.push(where),
  };
  return { ctx, stalls, failures };
}

async function reply(state: TestFunctionState, s: SetupPacket, ctx?: FunctionContext): Promise<SetupReply> {
  return answerTestRequest(state, s, ctx);
}

async function dataOut(r: SetupReply, bytes: Uint8Array): Promise<void | 'stall'> {
  if (r.stage !== 'out') throw new Error(`expected an OUT reply, got ${r.stage}`);
  return r.onData(bytes);
}

describe('answerTestRequest', () => {
  it('GET_COUNTERS answers the 48-byte counters block, counting itself', async () => {
    const st = newState();
    st.counters.bulkInBytes = 1n << 40n;
    const r = await reply(st, setup(IN, TEST_REQUEST.GET_COUNTERS, 48));
    expect(r.stage).toBe('in');
    const c = decodeTestCounters((r as { data: Uint8Array }).data);
    expect(c).toMatchObject({ controlRequests: 1, bulkInBytes: 1n << 40n });
  });

  it('GET_LAST_ERROR: u32 win32, u32 IOCTL function, then the name', async () => {
    const st = newState();
    const empty = (await reply(st, setup(IN, TEST_REQUEST.GET_LAST_ERROR, 64))) as { data: Uint8Array };
    expect([...empty.data]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const { ctx, failures } = fakeContext();
    st.recordTransferFailure(
      new Win32Error({ api: 'DeviceIoControl', win32: 31, win32Name: 'ERROR_GEN_FAILURE', ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_OUT' }),
      ctx,
      'echo',
    );
    const r = (await reply(st, setup(IN, TEST_REQUEST.GET_LAST_ERROR, 64))) as { data: Uint8Array };
    const v = new DataView(r.data.buffer, r.data.byteOffset);
    expect([v.getUint32(0, true), v.getUint32(4, true), new TextDecoder().decode(r.data.subarray(8))]).toEqual([31, 0x05, 'ERROR_GEN_FAILURE']);
    expect(st.counters).toMatchObject({ failedTransfers: 1, lastWin32Error: 31, cancelledTransfers: 0 });
    expect(failures).toEqual(['echo']);
  });

  it('recordTransferFailure counts cancellations apart and keeps lastError', () => {
    const st = newState();
    st.recordTransferFailure(new Win32Error({ api: 'DeviceIoControl', win32: 995, win32Name: 'ERROR_OPERATION_ABORTED' }), undefined, 'x');
    st.recordTransferFailure(new AbortedError('transferIn'), undefined, 'x');
    expect(st.counters).toMatchObject({ cancelledTransfers: 2, failedTransfers: 0 });
    expect(st.lastError).toBeUndefined();
    st.recordTransferFailure(new Error('not a Win32Error'), undefined, 'x');
    expect(st.counters.failedTransfers).toBe(1);
    expect(st.lastError).toBeUndefined();
  });

  it('SET_NEXT_IN_LENGTH takes a u32; 0xFFFFFFFF restores the default; other lengths stall', async () => {
    const st = newState();
    const r = await reply(st, setup(OUT, TEST_REQUEST.SET_NEXT_IN_LENGTH, 4));
    await expect(dataOut(r, Uint8Array.of(100, 0, 0, 0))).resolves.toBeUndefined();
    expect(st.nextInLength).toBe(100);
    await dataOut(await reply(st, setup(OUT, TEST_REQUEST.SET_NEXT_IN_LENGTH, 4)), Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    expect(st.nextInLength).toBeUndefined();
    await expect(dataOut(await reply(st, setup(OUT, TEST_REQUEST.SET_NEXT_IN_LENGTH, 4)), Uint8Array.of(1, 2))).resolves.toBe('stall');
    expect((await reply(st, setup(OUT, TEST_REQUEST.SET_NEXT_IN_LENGTH, 3))).stage).toBe('stall');
    expect((await reply(st, setup(IN, TEST_REQUEST.SET_NEXT_IN_LENGTH, 4))).stage).toBe('stall');
  });

  it('ECHO_LAST_SETUP answers the previous setup packet (zeros when there is none)', async () => {
    const st = newState();
    const first = (await reply(st, setup(IN, TEST_REQUEST.ECHO_LAST_SETUP, 8))) as { data: Uint8Array };
    expect([...first.data]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    await reply(st, setup(IN, TEST_REQUEST.READ_PATTERN, 0x0102, 0x0304, 0x0506));
    const r = (await reply(st, setup(IN, TEST_REQUEST.ECHO_LAST_SETUP, 8))) as { data: Uint8Array };
    expect([...r.data]).toEqual([IN, TEST_REQUEST.READ_PATTERN, 0x04, 0x03, 0x06, 0x05, 0x02, 0x01]);
  });

  it('RESET_STATE resets counters, last error, echo, stall rules, ZLP policy and next IN length', async () => {
    const st = newState();
    st.counters.bulkOutTransfers = 5;
    st.echo = Uint8Array.of(1);
    st.stallRules.set(1, STALL_MODE.ALWAYS);
    st.zlpPolicy = ZLP_POLICY.NEVER;
    st.nextInLength = 7;
    st.lastError = { win32: 1, ioctlFunction: 3, name: 'X' };
    expect((await reply(st, setup(OUT, TEST_REQUEST.RESET_STATE))).stage).toBe('none');
    expect(st.counters.bulkOutTransfers).toBe(0);
    expect(st.counters.controlRequests).toBe(0);
    expect([st.echo.length, st.stallRules.size, st.zlpPolicy, st.nextInLength, st.lastError]).toEqual([0, 0, ZLP_POLICY.APPEND_ON_MULTIPLE, undefined, undefined]);
    expect(st.lastSetup?.bRequest).toBe(TEST_REQUEST.RESET_STATE);
    expect((await reply(st, setup(OUT, TEST_REQUEST.RESET_STATE, 2))).stage).toBe('stall');
  });

  it('SET_STALL_POLICY ONCE stalls the next matching request, ALWAYS until NEVER', async () => {
    const st = newState();
    const set = async (bRequest: number, mode: number): Promise<void | 'stall'> =>
      dataOut(await reply(st, setup(OUT, TEST_REQUEST.SET_STALL_POLICY, 4)), Uint8Array.of(bRequest, mode, 0, 0));
    await set(TEST_REQUEST.ECHO_READ, STALL_MODE.ONCE);
    expect((await reply(st, setup(IN, TEST_REQUEST.ECHO_READ, 4))).stage).toBe('stall');
    expect((await reply(st, setup(IN, TEST_REQUEST.ECHO_READ, 4))).stage).toBe('in');
    await set(TEST_REQUEST.ECHO_READ, STALL_MODE.ALWAYS);
    expect((await reply(st, setup(IN, TEST_REQUEST.ECHO_READ, 4))).stage).toBe('stall');
    expect((await reply(st, setup(IN, TEST_REQUEST.ECHO_READ, 4))).stage).toBe('stall');
    await set(TEST_REQUEST.ECHO_READ, STALL_MODE.NEVER);
    expect((await reply(st, setup(IN, TEST_REQUEST.ECHO_READ, 4))).stage).toBe('in');
    await expect(set(TEST_REQUEST.ECHO_READ, 3)).resolves.toBe('stall');
    expect(st.counters.stalledRequests).toBe(3);
  });

  it('ECHO_WRITE stores a copy of the data stage (≤ 4096 bytes); wLength 0 clears it; ECHO_READ returns it', async () => {
    const st = newState();
    const data = Uint8Array.of(1, 2, 3);
    await dataOut(await reply(st, setup(OUT, TEST_REQUEST.ECHO_WRITE, 3)), data);
    data[0] = 99; // the function kept a copy, not the driver's buffer
    expect(await reply(st, setup(IN, TEST_REQUEST.ECHO_READ, 16))).toEqual({ stage: 'in', data: Uint8Array.of(1, 2, 3) });
    expect((await reply(st, setup(OUT, TEST_REQUEST.ECHO_WRITE, 4097))).stage).toBe('stall');
    expect((await reply(st, setup(OUT, TEST_REQUEST.ECHO_WRITE, 0))).stage).toBe('none');
    expect(st.echo.length).toBe(0);
  });

  it('SET_ZLP_POLICY takes wValue 0 or 1 with no data stage', async () => {
    const st = newState();
    expect((await reply(st, setup(OUT, TEST_REQUEST.SET_ZLP_POLICY, 0, ZLP_POLICY.NEVER))).stage).toBe('none');
    expect(st.zlpPolicy).toBe(ZLP_POLICY.NEVER);
    expect((await reply(st, setup(OUT, TEST_REQUEST.SET_ZLP_POLICY, 0, 2))).stage).toBe('stall');
    expect((await reply(st, setup(OUT, TEST_REQUEST.SET_ZLP_POLICY, 1, 1))).stage).toBe('stall');
    expect(st.zlpPolicy).toBe(ZLP_POLICY.NEVER);
  });

  it('READ_PATTERN answers wLength bytes of the pattern from offset wValue', async () => {
    const st = newState();
    const r = (await reply(st, setup(IN, TEST_REQUEST.READ_PATTERN, 10, 300))) as { data: Uint8Array };
    const want = new Uint8Array(10);
    fillPattern(want, 0x5eed, 300);
    expect(r.data).toEqual(want);
  });

  it('SET_ENDPOINT_HALT sets the pipe state of the endpoint in wIndex high byte, then acknowledges', async () => {
    const st = newState();
    const { ctx, stalls } = fakeContext();
    expect(await reply(st, setup(OUT, TEST_REQUEST.SET_ENDPOINT_HALT, 0, 1, 0x8100), ctx)).toEqual({ stage: 'none' });
    expect(await reply(st, setup(OUT, TEST_REQUEST.SET_ENDPOINT_HALT, 0, 0, 0x8100), ctx)).toEqual({ stage: 'none' });
    expect(stalls).toEqual([['in', true], ['in', false]]);
    expect((await reply(st, setup(OUT, TEST_REQUEST.SET_ENDPOINT_HALT, 0, 1, 0x8500), ctx)).stage).toBe('stall');
    expect((await reply(st, setup(OUT, TEST_REQUEST.SET_ENDPOINT_HALT, 0, 1, 0x8100), undefined)).stage).toBe('stall'); // unconfigured
  });

  it('SET_ENDPOINT_HALT stalls and records the failure when SET_PIPE_STATE fails', async () => {
    const st = newState();
    const err = new Win32Error({ api: 'DeviceIoControl', win32: 31, win32Name: 'ERROR_GEN_FAILURE', ioctl: 'IOCTL_GENERICUSBFN_SET_PIPE_STATE' });
    const { ctx } = fakeContext(() => Promise.reject(err));
    expect((await reply(st, setup(OUT, TEST_REQUEST.SET_ENDPOINT_HALT, 0, 1, 0x8100), ctx)).stage).toBe('stall');
    expect(st.lastError).toEqual({ win32: 31, ioctlFunction: 0x0a, name: 'ERROR_GEN_FAILURE' });
  });

  it.each([
    ['GET_COUNTERS as OUT', setup(OUT, TEST_REQUEST.GET_COUNTERS, 48)],
    ['GET_LAST_ERROR as OUT', setup(OUT, TEST_REQUEST.GET_LAST_ERROR, 8)],
    ['ECHO_LAST_SETUP as OUT', setup(OUT, TEST_REQUEST.ECHO_LAST_SETUP, 8)],
    ['SET_STALL_POLICY as IN', setup(IN, TEST_REQUEST.SET_STALL_POLICY, 4)],
    ['SET_STALL_POLICY with wLength 2', setup(OUT, TEST_REQUEST.SET_STALL_POLICY, 2)],
    ['ECHO_WRITE as IN', setup(IN, TEST_REQUEST.ECHO_WRITE, 4)],
    ['ECHO_READ as OUT', setup(OUT, TEST_REQUEST.ECHO_READ, 4)],
    ['READ_PATTERN as OUT', setup(OUT, TEST_REQUEST.READ_PATTERN, 4)],
    ['an unknown request', setup(IN, 0x7f, 4)],
  ])('stalls %s and counts it', async (_what, s) => {
    const st = newState();
    expect((await reply(st, s)).stage).toBe('stall');
    expect(st.counters).toMatchObject({ controlRequests: 1, stalledRequests: 1 });
  });
});
