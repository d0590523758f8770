/**
 * Fuzz test of the USB/IP server exporting the simulation: 100 000 malformed or hostile connections (random
 * bytes, truncated headers, bad lengths, bad seqnums and devids, unlink of unknown seqnums, huge
 * transfer_buffer_length, wrong directions, replies sent by a client, garbage interleaved with legal
 * messages), drawn from a seeded source. For every one: no exception escapes, the connection ends (no
 * hang), and the server logs exactly one end with its reason (naming a protocol violation when the input
 * broke the protocol). Afterwards a well-behaved client still lists, imports and loops data byte-exact.
 *
 * Split: 98 000 inputs go to the session parser directly (UsbIpServer.openSession with an in-memory
 * transport: the same code the socket handler runs, minus the kernel), in random chunk cuts; 2 000 go over
 * real TCP connections to 127.0.0.1, including ones that fall silent mid-message and must be ended by the
 * server's own deadlines.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsbIpUsbHost, type UsbIpLogEntry, type UsbIpSession, type UsbIpTransport } from '../../host-side/index.js';
import { fillPattern, findPatternMismatch, TEST_REQUEST } from '../../core/index.js';
import { SeededRandom, TEST_FUNCTION_ENDPOINTS, TEST_FUNCTION_PID, TEST_FUNCTION_VID } from '../../simulator/index.js';
import { startLoopbackExport, type StartedLoopbackExport } from './loopback-export.js';
import { chunked, fuzzKinds, stallingInputs, type FuzzInput, type FuzzTarget } from './usbip-fuzz-inputs.js';

const SEED = 0x5eed_0013;
const DIRECT_INPUTS = 98_000;
const SOCKET_INPUTS = 2_000;
/** Of the socket inputs, how many fall silent instead of closing (each costs one server deadline). */
const SILENT_INPUTS = 40;
const LIMITS = { maxTransferBytes: 1024 * 1024, requestTimeoutMs: 150, messageTimeoutMs: 150, closeGraceMs: 500 };

/** An in-memory transport: the fuzz feeds the session directly. */
class DirectTransport implements UsbIpTransport {
  readonly remote = 'fuzz';
  ended = false;
  write(_chunks: readonly Uint8Array[], onWritten?: () => void): boolean {
    onWritten?.();
    return true;
  }
  end(): void {
    this.ended = true;
  }
  pauseInput(): void {}
  resumeInput(): void {}
}

/** Waits for `p`, failing the input if it takes longer than `ms` (a hang). */
async function within<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`hang: ${what()} did not end within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe('USB/IP server under hostile input', () => {
  let world: StartedLoopbackExport;
  const log: UsbIpLogEntry[] = [];
  let target: FuzzTarget;
  const counts = new Map<string, number>();
  const count = (kind: string): void => void counts.set(kind, (counts.get(kind) ?? 0) + 1);

  beforeAll(async () => {
    world = await startLoopbackExport({ speed: 'high', limits: LIMITS, log: (e) => log.push(e) });
    // The device enumerates on the simulation's (real-time) schedule: wait until the server exports it.
    const host = new UsbIpUsbHost({ port: world.port, pollIntervalMs: 20 });
    const info = await host.waitForDevice({ vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID }, { timeoutMs: 5000 });
    await host.close();
    target = { busid: info.id, devid: ((info.busNumber << 16) | info.deviceAddress) >>> 0, maxTransferBytes: LIMITS.maxTransferBytes };
    log.length = 0;
  });

  afterAll(async () => {
    await world?.close();
    // The figures of this run (docs/usbip.md quotes them).
    console.log(`usbip fuzz: ${[...counts].map(([k, n]) => `${k}: ${n}`).join('; ')}`);
  });

  /** The one end entry of a connection, checked against what the input must cause. */
  function checkEnd(input: FuzzInput, entries: readonly UsbIpLogEntry[], where: string): void {
    const ends = entries.filter((e) => e.event === 'end');
    if (ends.length !== 1 || ends[0]!.message.length === 0) {
      throw new Error(`${where} ${input.kind}: expected one logged end with a reason, got ${JSON.stringify(ends)} for ${Buffer.from(input.bytes).toString('hex')}`);
    }
    if (input.expect === 'violation' && !/protocol violation|malformed message/.test(ends[0]!.message)) {
      throw new Error(`${where} ${input.kind}: ended '${ends[0]!.message}', not as a protocol violation`);
    }
  }

  it(`ends each of ${DIRECT_INPUTS} hostile inputs fed to the session parser with a logged reason`, { timeout: 120_000 }, async () => {
    const rnd = new SeededRandom(SEED);
    const kinds = fuzzKinds(target);
    const t0 = performance.now();
    for (let i = 0; i < DIRECT_INPUTS; i++) {
      const input = kinds[rnd.int(0, kinds.length - 1)]!(rnd);
      const transport = new DirectTransport();
      const before = log.length;
      const session: UsbIpSession = world.server.openSession(transport);
      try {
        for (const c of chunked(input.bytes, rnd)) session.receive(c);
        // An import answers asynchronously: let it finish before the client "closes".
        if (input.imports) await new Promise((resolve) => setImmediate(resolve));
        session.inputEnded();
      } catch (err) {
        throw new Error(`input ${i} (${input.kind}) threw out of the session`, { cause: err });
      }
      // Most inputs end synchronously; an import (or a device list) ends once its device is released.
      if (!session.closed || input.imports) await within(session.done, 3000, () => `input ${i} (${input.kind})`);
      if (!transport.ended) throw new Error(`input ${i} (${input.kind}): the connection was not closed`);
      checkEnd(input, log.slice(before).filter((e) => e.connection === session.id), `input ${i}`);
      count(input.kind);
    }
    console.log(`usbip fuzz: ${DIRECT_INPUTS} direct inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(world.server.sessionCount).toBe(0);
  });

  it(`ends each of ${SOCKET_INPUTS} hostile TCP connections, silent ones by the server's deadlines`, { timeout: 120_000 }, async () => {
    const rnd = new SeededRandom(SEED + 1);
    const kinds = fuzzKinds(target);
    const t0 = performance.now();
    const connectsBefore = log.filter((e) => e.event === 'connect').length;
    const endsBefore = log.filter((e) => e.event === 'end').length;
    const send = (input: FuzzInput, i: number): Promise<void> =>
      within(
        new Promise<void>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port: world.port });
          socket.on('error', () => undefined); // a reset by the server is one way to end
          socket.on('close', () => resolve());
          socket.on('connect', () => {
            for (const c of chunked(input.bytes, rnd)) socket.write(c);
            if (input.closes) socket.end();
          });
          socket.resume();
        }),
        3000,
        () => `socket input ${i} (${input.kind})`,
      );
    // Silent connections in parallel (each waits for a server deadline); the rest one by one, as an
    // import holds the device until its connection has ended.
    const silent: FuzzInput[] = [];
    for (let i = 0; i < SILENT_INPUTS; i++) {
      const [midOperation, midUrb] = stallingInputs(target, rnd);
      silent.push(i % 8 === 0 ? midUrb! : midOperation!);
    }
    await Promise.all(silent.filter((x) => !x.imports).map((x, i) => send(x, i)));
    for (const [i, x] of silent.filter((y) => y.imports).entries()) await send(x, i);
    for (const x of silent) count(`socket: ${x.kind}`);
    // Operation-phase inputs 16 connections at a time; URB-phase ones one at a time (one importer per device).
    const rest: FuzzInput[] = [];
    for (let i = silent.length; i < SOCKET_INPUTS; i++) rest.push(kinds[rnd.int(0, kinds.length - 1)]!(rnd));
    const ops = rest.filter((x) => !x.imports);
    for (let i = 0; i < ops.length; i += 16) await Promise.all(ops.slice(i, i + 16).map((x, j) => send(x, i + j)));
    for (const [i, x] of rest.filter((y) => y.imports).entries()) await send(x, i);
    for (const x of rest) count(`socket: ${x.kind}`);
    // Every connection's end is logged (the server side may log it a moment after the client saw the close).
    await within(
      (async () => {
        while (log.filter((e) => e.event === 'end').length - endsBefore < SOCKET_INPUTS) await new Promise((r) => setTimeout(r, 10));
      })(),
      5000,
      () => 'the server logging every end',
    );
    const connects = log.filter((e) => e.event === 'connect').length - connectsBefore;
    const ends = log.filter((e) => e.event === 'end').slice(endsBefore);
    expect(connects).toBe(SOCKET_INPUTS);
    expect(ends).toHaveLength(SOCKET_INPUTS);
    expect(ends.every((e) => e.message.length > 0)).toBe(true);
    expect(ends.filter((e) => /no complete operation request within|stayed incomplete/.test(e.message)).length).toBe(silent.length);
    console.log(`usbip fuzz: ${SOCKET_INPUTS} socket inputs (${silent.length} silent) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await within(
      (async () => {
        while (world.server.sessionCount > 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      3000,
      () => 'all sessions closing',
    );
  });

  it('still serves a well-behaved client afterwards: list, import, control echo, byte-exact bulk loopback', async () => {
    await using host = new UsbIpUsbHost({ port: world.port });
    const [info] = await host.listDevices({ vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID });
    expect(info).toBeDefined();
    await using dev = await host.open(info!);
    await dev.claimInterface(0);
    // Earlier inputs may have left loopback data behind (legal bulk OUTs): drain it first.
    for (;;) {
      const left = await dev.bulkIn(TEST_FUNCTION_ENDPOINTS.BULK_IN, 65536, { timeoutMs: 50 }).catch(() => undefined);
      if (left === undefined) break;
    }
    const echo = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const classIf = (request: number) => ({ requestType: 'class' as const, recipient: 'interface' as const, request, value: 0, index: 0 });
    await dev.controlOut(classIf(TEST_REQUEST.ECHO_WRITE), echo);
    expect((await dev.controlIn(classIf(TEST_REQUEST.ECHO_READ), 64)).data).toEqual(echo);
    const data = new Uint8Array(64 * 1024 + 100);
    fillPattern(data, 13, 0);
    await dev.bulkOut(TEST_FUNCTION_ENDPOINTS.BULK_OUT, data);
    const back = await dev.bulkIn(TEST_FUNCTION_ENDPOINTS.BULK_IN, data.length);
    expect(back.data.length).toBe(data.length);
    expect(findPatternMismatch(back.data, 13, 0)).toBe(-1);
  });
});
