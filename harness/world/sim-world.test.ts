/**
 * The world builder: what `simWorld()` assembles, the agent it opens (endpoints read from the device, one
 * deadline), the controls it hands out, and what it cleans up.
 * @see issue 11 item 2 (one world builder); issue 15 ("deadlines are deadlines", "helpers leave the pipes clean")
 */
import { describe, expect, it } from 'vitest';
import { delay, isTimeout, TEST_REQUEST, UsageError } from '../../core/index.js';
import { createLoopbackFunction } from '../../device-side/index.js';
import { loopbackFunctionConfig, TEST_FUNCTION_ENDPOINTS, UsbmonPcapWriter, type SimUsbFnPort } from '../../simulator/index.js';
import { simWorld } from './sim-world.js';

describe('simWorld(): the agent learns the function from the device', () => {
  for (const [speed, wMaxPacketSize] of [['high', 512], ['full', 64]] as const) {
    it(`reads the bulk endpoints and their wMaxPacketSize ${wMaxPacketSize} at ${speed} speed`, async () => {
      await using world = await simWorld().withSpeed(speed).start();
      const agent = await world.agent();
      expect(agent).toMatchObject({
        bulkOutEndpoint: TEST_FUNCTION_ENDPOINTS.BULK_OUT,
        bulkInEndpoint: TEST_FUNCTION_ENDPOINTS.BULK_IN,
        maxPacketSize: wMaxPacketSize,
      });
      expect(agent.handle.info.speed).toBe(speed);
      expect(await world.agent()).toBe(agent); // the same agent until reopenAgent
    });
  }

  it('finds the device by the VID/PID of its function configuration', async () => {
    await using world = await simWorld()
      .withConfig({ ...loopbackFunctionConfig(), idVendor: 0x1234, idProduct: 0x5678 })
      .start();
    const agent = await world.agent();
    expect(agent.handle.info).toMatchObject({ vendorId: 0x1234, productId: 0x5678 });
  });
});

describe('simWorld(): one deadline for opening the agent (on the virtual clock)', () => {
  it('ends within its timeout when the device appears late and is never configured', async () => {
    await using world = await simWorld().powered(false).start();
    // Every BUS_EVENT_NOTIFICATION fails: the host enumerates and configures the device, but the service
    // never hears of it, so the last step waits until the deadline.
    world.sim.failNextIoctl('BUS_EVENT_NOTIFICATION', 31, { count: 1_000_000 });
    const t0 = world.clock.now();
    world.clock.setTimer(500, () => world.sim.powerOn());
    const found = world.host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 10_000 }).then(() => world.clock.now() - t0);
    const err = await world.agent({ timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(isTimeout(err)).toBe(true);
    expect((err as Error).message).toMatch(/within 2000 ms: still at step 'wait until the device side is configured'/);
    expect(world.clock.now() - t0).toBe(2_000);
    // The first steps took part of the budget: per-step timeouts would have ended after 2.5 s.
    expect(await found).toBeGreaterThanOrEqual(500);
  });

  it('ends within its timeout when no device ever appears, and tries again on the next call', async () => {
    await using world = await simWorld().serviceStarted(false).start();
    const t0 = world.clock.now();
    const err = await world.agent({ timeoutMs: 750 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'TimeoutError', timeoutMs: 750, data: { detail: "still at step 'find the device'" } });
    expect(world.clock.now() - t0).toBe(750);
    await world.device.startService();
    await expect(world.agent({ timeoutMs: 2_000 })).resolves.toMatchObject({ maxPacketSize: 512 });
  });
});

describe('simWorld(): helpers leave the pipes clean', () => {
  it('after agent.loopback(4096) the next raw read gets the next echo, not the leftover zero-length packet', async () => {
    await using world = await simWorld().start();
    const agent = await world.agent();
    expect(await agent.loopback(4096, { seed: 4 })).toMatchObject({ ok: true, bytesRead: 4096 });
    await agent.handle.bulkOut(agent.bulkOutEndpoint, Uint8Array.of(1, 2, 3));
    expect(await agent.handle.bulkIn(agent.bulkInEndpoint, 512, { timeoutMs: 100 })).toMatchObject({ status: 'ok', data: Uint8Array.of(1, 2, 3) });
    expect(await agent.loopback(0)).toMatchObject({ ok: true, bytesRead: 0 });
    expect(await agent.loopbackPipelined(2048, 6, 3, { seed: 5 })).toMatchObject({ ok: true, bytesRead: 6 * 2048 });
    const nothing = await agent.handle.bulkIn(agent.bulkInEndpoint, 512, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(isTimeout(nothing)).toBe(true);
    // Every echo completed on the device, each with its ZLP taken by the host.
    expect(await agent.getCounters()).toMatchObject({ bulkOutTransfers: 9, bulkInTransfers: 9, failedTransfers: 0, cancelledTransfers: 0 });
  });
});

describe('simWorld(): controls and clean-up', () => {
  it('answers or stalls a request through sim.use until the handler is removed or reset', async () => {
    await using world = await simWorld().start();
    const agent = await world.agent();
    const remove = world.sim.use((setup) => (setup.bRequest === TEST_REQUEST.ECHO_READ ? { data: Uint8Array.of(0xab) } : undefined));
    world.sim.use((setup) => (setup.bRequest === TEST_REQUEST.READ_PATTERN ? { stall: true } : undefined));
    expect(await agent.echoRead(4)).toMatchObject({ status: 'ok', data: Uint8Array.of(0xab) });
    expect(await agent.readPattern(0, 4)).toMatchObject({ status: 'stall' });
    remove();
    expect(await agent.echoRead(4)).toMatchObject({ status: 'ok', data: new Uint8Array(0) });
    world.sim.resetHandlers();
    expect(await agent.readPattern(0, 4)).toMatchObject({ status: 'ok' });
  });

  it('starts unpowered, unplugged or with the service stopped when told, and applies scenario world options', async () => {
    await using a = await simWorld().powered(false).start();
    expect((await a.device.status()).service).toBe('waitingForInterface');
    a.sim.powerOn();
    await a.device.whenActive();
    await using b = await simWorld().serviceStarted(false).start();
    expect((await b.device.status()).service).toBe('idle');
    await using c = await simWorld().withOptions({ fn: 'sourceSink', speed: 'full', attached: false, busEventDepth: 2 }).start();
    expect(c.device.functionName).toBe('source-sink');
    expect(c.speed).toBe('full');
    expect(c.functionState).toBeDefined();
    await c.device.whenActive();
    expect((await c.host.listDevices()).length).toBe(0);
  });

  it('runs a function object, keeping a built-in one\'s state, and the service on a wrapped port', async () => {
    const fn = createLoopbackFunction({ depth: 2 });
    let wrapped: SimUsbFnPort | undefined;
    await using world = await simWorld()
      .withFunction(fn)
      .withPort((port) => (wrapped = port))
      .start();
    expect(world.fn).toBe(fn);
    expect(world.functionState).toBe(fn.state);
    expect(wrapped).toBe(world.simulation.port);
    world.sim.vetoQueryRemove();
    expect(await world.sim.queryRemove()).toBe('vetoed');
  });

  it('captures into the pcap writer it was given; without one its capture is empty', async () => {
    const pcap = new UsbmonPcapWriter();
    await using world = await simWorld().withCapture(pcap).start();
    await world.agent();
    expect(world.capture.recordCount).toBe(pcap.recordCount);
    expect(world.capture.recordCount).toBeGreaterThan(10);
    expect(world.capture.pcap()).toEqual(pcap.toBytes());
    await using bare = await simWorld().start();
    await bare.agent();
    expect(bare.capture.recordCount).toBe(0);
    expect(bare.capture.pcap()).toHaveLength(24); // the pcap file header, no records
  });

  it('closes every handle it opened and the service when it closes, once', async () => {
    const world = await simWorld().start();
    const raw = await world.openHandle();
    await world.close();
    await world.close();
    await world.closed;
    expect(world.service.state).toBe('stopped');
    await expect(raw.bulkOut(0x01, Uint8Array.of(1))).rejects.toMatchObject({ name: 'LibusbError' });
    const other = await simWorld().start();
    const agent = await other.agent();
    await other[Symbol.asyncDispose]();
    await expect(agent.classIn(0x42, 1)).rejects.toMatchObject({ name: 'LibusbError' });
  });

  it('resets the port at a protocol step through sim.resetAt: the transfer in flight ends CANCELLED, the agent keeps working', async () => {
    await using world = await simWorld().start();
    const agent = await world.agent();
    world.sim.resetAt({ transferType: 'bulk', endpoint: agent.bulkOutEndpoint }, 1, 1);
    const err = await agent.handle.bulkOut(agent.bulkOutEndpoint, new Uint8Array(1 << 20), { zeroLengthPacket: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED', actualLength: 53_248 }); // 1 ms of high-speed bus time
    // The host enumerates the device again in place (two resets, ~40 ms), then the service is configured again.
    await delay(world.clock, 100);
    await world.device.whenConfigured();
    expect(await agent.loopback(4096, { seed: 3 })).toMatchObject({ ok: true });
    expect(() => world.sim.resetAt({}, 0)).toThrow(/nth 0 must be a positive integer/);
    expect(() => world.sim.resetAt({}, 1, -1)).toThrow(/afterMs -1/);
  });

  it('rejects options that cannot be right with a UsageError', () => {
    expect(() => simWorld().withSpeed('warp' as 'high')).toThrow(UsageError);
    expect(() => simWorld().withFunction('nope' as 'loopback')).toThrow(/unknown test function 'nope'/);
    expect(() => simWorld().withSeed(1.5)).toThrow(/not an integer/);
    expect(() => simWorld().withCmLatency({ min: 2, max: 1 })).toThrow(UsageError);
    expect(() => simWorld().withDefaultWaitMs(0)).toThrow(UsageError);
  });
});
