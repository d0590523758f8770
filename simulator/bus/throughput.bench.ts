/**
 * Wall-clock micro-benchmark of the simulated link (not a test; run `npx tsx simulator/bus/throughput.bench.ts`):
 * bulk loopback bytes/s with 1 MiB transfers, 4 in flight, through the fake loopback class driver, against
 * a plain buffer-copy loop in the same process; class control IN transfers (64 data bytes) per second;
 * and the bus model's throughput on the virtual clock. The full-path figures of issue 7 (through the
 * GenericUSBFn model and the device-side service) are measured by `npm run bench`.
 */
import { TEST_REQUEST } from '../../core/index.js';
import { startSimLink } from './sim-link.js';

const MiB = 1024 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function bulkLoopback(transfers: number): Promise<{ wall: number; virtual: number }> {
  const link = await startSimLink({ driver: { bufferBytes: MiB, queued: 4 } });
  const dev = await link.host.open(link.info!);
  await dev.claimInterface(0);
  const out = new Uint8Array(MiB).map((_, i) => i & 0xff);
  let sent = 0;
  let received = 0;
  const v0 = link.clock.now();
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (sent < transfers) {
      sent++;
      const [, back] = await Promise.all([dev.bulkOut(0x01, out), dev.bulkIn(0x81, MiB)]);
      if (back.data.length !== MiB || back.data[12345] !== out[12345]) throw new Error('loopback data mismatch');
      received += back.data.length;
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  const wall = received / ((performance.now() - t0) / 1000);
  const virtual = received / ((link.clock.now() - v0) / 1000);
  await link.host.close();
  return { wall, virtual };
}

function copyLoop(bytes: number): number {
  const a = new Uint8Array(MiB).fill(1);
  const b = new Uint8Array(MiB);
  const t0 = performance.now();
  for (let done = 0; done < bytes; done += MiB) b.set(a);
  return bytes / ((performance.now() - t0) / 1000);
}

async function controlRate(count: number): Promise<number> {
  const link = await startSimLink();
  const dev = await link.host.open(link.info!);
  await dev.controlOut({ requestType: 'class', recipient: 'interface', request: TEST_REQUEST.ECHO_WRITE, value: 0, index: 0 }, new Uint8Array(64));
  const setup = { requestType: 'class', recipient: 'interface', request: TEST_REQUEST.ECHO_READ, value: 0, index: 0 } as const;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const r = await dev.controlIn(setup, 64);
    if (r.data.length !== 64) throw new Error('short control answer');
  }
  const rate = count / ((performance.now() - t0) / 1000);
  await link.host.close();
  return rate;
}

async function busModel(speed: 'full' | 'high', transfers: number): Promise<number> {
  const link = await startSimLink({ speed, driver: { bufferBytes: 64 * 1024, queued: 4 } });
  const dev = await link.host.open(link.info!);
  await dev.claimInterface(0);
  const out = new Uint8Array(64 * 1024);
  const v0 = link.clock.now();
  let n = 0;
  const lane = async (): Promise<void> => {
    while (n < transfers) {
      n++;
      await Promise.all([dev.bulkOut(0x01, out, { timeoutMs: 60_000 }), dev.bulkIn(0x81, out.length, { timeoutMs: 60_000 })]);
    }
  };
  await Promise.all([lane(), lane()]);
  // Loopback moves every byte twice over the half-duplex bus.
  const bps = (2 * transfers * out.length) / ((link.clock.now() - v0) / 1000);
  await link.host.close();
  return bps;
}

const runs = 5;
const bulk: number[] = [];
const copy: number[] = [];
const ctl: number[] = [];
let virtualBulk = 0;
await bulkLoopback(32); // warm-up
await controlRate(2000);
for (let r = 0; r < runs; r++) {
  const b = await bulkLoopback(256);
  bulk.push(b.wall);
  virtualBulk = b.virtual;
  copy.push(copyLoop(256 * MiB));
  ctl.push(await controlRate(20_000));
}
const hs = await busModel('high', 64);
const fs = await busModel('full', 8);
const fmt = (bps: number): string => `${(bps / 1e6).toFixed(1)} MB/s`;
console.log(`bulk loopback (1 MiB × 4 in flight, fake class driver): ${fmt(median(bulk))} wall  (copy loop ${fmt(median(copy))}, ratio ${(median(bulk) / median(copy)).toFixed(2)})`);
console.log(`  same run on the virtual clock: ${fmt(virtualBulk)}`);
console.log(`control IN, 64 data bytes (fake class driver): ${Math.round(median(ctl))} transfers/s wall`);
console.log(`bus model: high speed ${fmt(hs)} (limit 53.248), full speed ${(fs / 1e6).toFixed(4)} MB/s (limit 1.216)`);
