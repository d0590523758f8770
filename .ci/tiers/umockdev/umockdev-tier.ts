/**
 * The real-libusb tier (issue 5): for each case, a usbmon capture of a run plus a umockdev device
 * description derived from the same function configuration; NodeUsbHost then runs the same operations
 * under `umockdev-run` replaying that capture, and every result (bytes, lengths, statuses) must equal the
 * run that produced the capture. Each replay has an outer timeout (a mismatched replay hangs).
 *
 * Two sources of captures:
 * - `simulated` cases: the operations run on the simulator (createSimulation + the device-side service
 *   with the loopback test function) with a UsbmonPcapWriter on the bus; the sim's results are the
 *   expected ones (this is the check of issue 5: real libusb sees what the simulated run saw);
 * - `synthetic` cases: URB events written by hand (replay-operations.ts) for outcomes the default
 *   simulated function does not produce (stalled bulk endpoints), plus a control case proving that a
 *   capture which differs from what the host sends is detected.
 *
 * Then the UsbHost contract suite itself runs on NodeUsbHost (contract-tier.ts): every case of its
 * `replayable` section, at full and high speed, replayed from the SimUsbHost run's capture, with its
 * assertions and a transcript equal to the simulated one; `timing` cases are printed as SKIP with the reason.
 *
 * Prints one line per case and a final `N passed, M failed`; exits 1 if any failed.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath } from 'node:url';
import { fillPattern, TEST_REQUEST } from '../../../core/index.js';
import { classInterface, vendorDevice } from '../../../host-side/index.js';
import { UsbmonPcapWriter, TEST_FUNCTION_ENDPOINTS } from '../../../simulator/index.js';
import { type ReplayOp, type ReplayResult, expectedResults, opsToJson, syntheticUrbEvents } from './replay-operations.js';
import { runContractTier } from './contract-tier.js';
import { runReplay, TIMED_OUT_CODES } from './run-umockdev.js';
import { simulatedRun } from './simulated-run.js';
import { testFunctionDevice } from './test-function-device.js';
import { sysfsPath, umockdevDescription } from './umockdev-description.js';

const CLIENT = fileURLToPath(new URL('./replay-client.ts', import.meta.url));
const REPLAY_TIMEOUT_S = Number(process.env['UMOCKDEV_REPLAY_TIMEOUT_S'] ?? 90);
/** Outer bound of one contract case's replay (its transfers carry their own libusb timeouts of at most 5 s). */
const CONTRACT_TIMEOUT_S = Number(process.env['UMOCKDEV_CONTRACT_TIMEOUT_S'] ?? 30);

const pattern = (n: number, seed: number): Uint8Array => {
  const b = new Uint8Array(n);
  fillPattern(b, seed, 0);
  return b;
};

// ---- the device, derived from the test function's USBFN registry configuration ----------------
const { device, interfaceNumber } = testFunctionDevice('high');

const OUT = TEST_FUNCTION_ENDPOINTS.BULK_OUT;
const IN = TEST_FUNCTION_ENDPOINTS.BULK_IN;
const cls = (request: number, value = 0): ReturnType<typeof classInterface> => classInterface(interfaceNumber, request, value);

interface TierCase {
  readonly name: string;
  readonly source: 'simulated' | 'synthetic';
  readonly ops: ReplayOp[];
  /** Ops the capture is made from, when it deliberately differs from what the client runs. */
  readonly recordedOps?: ReplayOp[];
  /** The comparison must find a difference (a control case proving the tier can fail). */
  readonly expectMismatch?: boolean;
}

/**
 * Bulk loopback on the simulated test function: OUT n bytes, then IN until they are back.
 * Sizes are never a multiple of wMaxPacketSize here: the device's OUT transfer only ends on a short
 * packet, so an exact multiple would need a ZLP, which NodeUsbHost sends as a second URB (node-usb
 * exposes no LIBUSB_TRANSFER_ADD_ZERO_PACKET) while SimUsbHost sets URB_ZERO_PACKET on one URB, and
 * the replay matches URBs one by one. A timed-out URB cannot be replayed either: umockdev reaps the
 * recorded completion (-ECONNRESET) at once, which libusb reports as a zero-length success.
 */
const loop = (n: number): ReplayOp[] => [
  { kind: 'bulkOut', endpoint: OUT, data: pattern(n, n) },
  { kind: 'bulkIn', endpoint: IN, length: Math.ceil(n / 512) * 512, reply: pattern(n, n) },
];

const CASES: TierCase[] = [
  {
    name: 'simulated run: bulk loopback of 1, 511, 1000, 1537 and 4095 bytes',
    source: 'simulated',
    ops: [1, 511, 1000, 1537, 4095].flatMap(loop),
  },
  {
    name: 'simulated run: class requests, echo write/read, loopback and an EP0 stall',
    source: 'simulated',
    ops: [
      { kind: 'controlOut', setup: cls(TEST_REQUEST.RESET_STATE), data: new Uint8Array(0) },
      { kind: 'controlIn', setup: cls(TEST_REQUEST.GET_COUNTERS), length: 48, reply: new Uint8Array(0) },
      { kind: 'controlOut', setup: cls(TEST_REQUEST.ECHO_WRITE), data: pattern(100, 5) },
      { kind: 'controlIn', setup: cls(TEST_REQUEST.ECHO_READ), length: 255, reply: new Uint8Array(0) },
      { kind: 'controlIn', setup: cls(TEST_REQUEST.READ_PATTERN, 32), length: 64, reply: new Uint8Array(0) },
      ...loop(700),
      { kind: 'controlIn', setup: cls(0x7e), length: 4, reply: 'stall' },
      { kind: 'controlIn', setup: cls(TEST_REQUEST.GET_COUNTERS), length: 48, reply: new Uint8Array(0) },
    ],
  },
  {
    name: 'class control IN/OUT/no-data to the function interface',
    source: 'synthetic',
    ops: [
      { kind: 'controlIn', setup: cls(TEST_REQUEST.GET_COUNTERS), length: 48, reply: pattern(48, 1) },
      { kind: 'controlOut', setup: cls(TEST_REQUEST.ECHO_WRITE), data: Uint8Array.of(1, 2, 3, 4, 5) },
      { kind: 'controlIn', setup: cls(TEST_REQUEST.ECHO_READ), length: 64, reply: Uint8Array.of(1, 2, 3, 4, 5) },
      { kind: 'controlOut', setup: cls(TEST_REQUEST.RESET_STATE), data: new Uint8Array(0) },
      { kind: 'controlIn', setup: cls(TEST_REQUEST.READ_PATTERN, 16), length: 255, reply: pattern(255, 16) },
    ],
  },
  {
    name: 'bulk OUT of several sizes (1, 63, 511, 512, 1024, 4096, 16384)',
    source: 'synthetic',
    ops: [1, 63, 511, 512, 1024, 4096, 16384].map((n) => ({ kind: 'bulkOut' as const, endpoint: OUT, data: pattern(n, n) })),
  },
  {
    name: 'bulk IN of several sizes (short, zero-length, full, multi-packet)',
    source: 'synthetic',
    ops: [
      { kind: 'bulkIn', endpoint: IN, length: 512, reply: pattern(13, 2) },
      { kind: 'bulkIn', endpoint: IN, length: 512, reply: new Uint8Array(0) },
      { kind: 'bulkIn', endpoint: IN, length: 512, reply: pattern(512, 3) },
      { kind: 'bulkIn', endpoint: IN, length: 4096, reply: pattern(4096, 4) },
      { kind: 'bulkIn', endpoint: IN, length: 16384, reply: pattern(5000, 5) },
    ],
  },
  {
    name: 'stalls: EP0 vendor request and bulk IN come back as status stall',
    source: 'synthetic',
    ops: [
      { kind: 'controlIn', setup: vendorDevice(0x42, 1, 2), length: 8, reply: 'stall' },
      { kind: 'controlOut', setup: cls(0x7f), data: Uint8Array.of(9), reply: 'stall' },
      { kind: 'bulkIn', endpoint: IN, length: 512, reply: 'stall' },
      { kind: 'bulkOut', endpoint: OUT, data: pattern(64, 9), reply: 'stall' },
    ],
  },
  {
    name: 'a loopback session: control, bulk OUT then IN of the same bytes',
    source: 'synthetic',
    ops: [
      { kind: 'controlOut', setup: cls(TEST_REQUEST.RESET_STATE), data: new Uint8Array(0) },
      { kind: 'bulkOut', endpoint: OUT, data: pattern(2048, 77) },
      { kind: 'bulkIn', endpoint: IN, length: 2048, reply: pattern(2048, 77) },
      { kind: 'controlIn', setup: cls(TEST_REQUEST.GET_COUNTERS), length: 48, reply: pattern(48, 3) },
    ],
  },
  {
    name: 'control case: a capture that differs from what the host sends is detected',
    source: 'synthetic',
    ops: [{ kind: 'bulkOut', endpoint: OUT, data: pattern(64, 1) }],
    recordedOps: [{ kind: 'bulkOut', endpoint: OUT, data: pattern(64, 2) }],
    expectMismatch: true,
  },
];

async function runCase(c: TierCase, dir: string): Promise<{ ok: boolean; detail: string }> {
  const descPath = join(dir, 'device.umockdev');
  const pcapPath = join(dir, 'capture.pcap');
  const opsPath = join(dir, 'ops.json');
  const resultPath = join(dir, 'results.json');
  let expected: ReplayResult[];
  if (c.source === 'simulated') {
    const run = await simulatedRun(c.ops);
    await run.capture.writeFile(pcapPath);
    expected = run.results;
  } else {
    const capture = new UsbmonPcapWriter();
    for (const e of syntheticUrbEvents(c.recordedOps ?? c.ops, device.busNumber, device.deviceAddress)) capture.record(e);
    await capture.writeFile(pcapPath);
    expected = expectedResults(c.ops);
  }
  await writeFile(descPath, umockdevDescription(device));
  await writeFile(opsPath, opsToJson(c.ops));

  const { code, output } = await runReplay(
    [
      '--device', descPath,
      '--pcap', `${sysfsPath(device)}=${pcapPath}`,
      '--', process.execPath, '--import', 'tsx', CLIENT, opsPath, String(device.idVendor), String(device.idProduct), String(interfaceNumber), resultPath,
    ],
    REPLAY_TIMEOUT_S,
  );
  if (TIMED_OUT_CODES.includes(code)) return { ok: c.expectMismatch === true, detail: `replay timed out after ${REPLAY_TIMEOUT_S} s\n${output}` };
  if (!existsSync(resultPath)) return { ok: false, detail: `the replay client exited with ${code} and wrote no results\n${output}` };
  const { results } = JSON.parse(await readFile(resultPath, 'utf8')) as { results: ReplayResult[] };
  const same = isDeepStrictEqual(results, expected);
  if (c.expectMismatch === true) {
    return same ? { ok: false, detail: 'the replay matched although the capture differs: the comparison cannot fail' } : { ok: true, detail: `difference detected: ${JSON.stringify(results[0])}` };
  }
  if (same) return { ok: true, detail: `${results.length} results equal` };
  const diffs = expected
    .map((e, i) => [e, results[i]] as const)
    .filter(([e, r]) => !isDeepStrictEqual(e, r))
    .map(([e, r]) => `  expected ${JSON.stringify(e)}\n  replayed ${JSON.stringify(r)}`);
  return { ok: false, detail: `${diffs.length} results differ:\n${diffs.join('\n')}\n${output}` };
}

let passed = 0;
let failed = 0;
console.log(`umockdev tier: device ${device.idVendor.toString(16)}:${device.idProduct.toString(16)} at ${sysfsPath(device)}, interface ${interfaceNumber}`);
for (const c of CASES) {
  const dir = await mkdtemp(join(tmpdir(), 'usbfn-umockdev-'));
  try {
    const r = await runCase(c, dir);
    if (r.ok) passed++;
    else failed++;
    console.log(`${r.ok ? 'PASS' : 'FAIL'} [${c.source}] ${c.name}${r.ok ? ` (${r.detail.split('\n')[0]})` : `\n${r.detail}`}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${c.name}\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// The UsbHost contract suite on NodeUsbHost: one replay per case and speed (contract-tier.ts).
let skipped = 0;
const contractDir = await mkdtemp(join(tmpdir(), 'usbfn-umockdev-contract-'));
try {
  await runContractTier(contractDir, CONTRACT_TIMEOUT_S, (r) => {
    if (r.outcome === 'ok') passed++;
    else if (r.outcome === 'fail') failed++;
    else skipped++;
    const tag = r.outcome === 'ok' ? 'PASS' : r.outcome === 'fail' ? 'FAIL' : 'SKIP';
    console.log(`${tag} [contract] ${r.name}${r.outcome === 'fail' ? `\n${r.detail}` : ` (${r.detail.split('\n')[0]})`}`);
  });
} catch (e) {
  failed++;
  console.log(`FAIL [contract] the contract run could not complete\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
} finally {
  await rm(contractDir, { recursive: true, force: true });
}
if (skipped > 0) console.log(`${skipped} skipped, each with its reason above (not counted below)`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
