/**
 * `runHostProbe`: the host half of first light (`usbfn-hil probe --vid … --pid …`, docs/first-light.md).
 * It waits for the function, then sends the probe's class requests (core/probe-protocol.ts) in order; each
 * one drives one step of `usbfn-hil device probe` on the Windows device, and each is printed with its
 * SETUP bytes, the outcome (libusb status or error), the byte count, the data and the time it took:
 *
 * 1. two requests without a data stage (the device answers HANDSHAKE_IN first, then HANDSHAKE_OUT first);
 * 2. an IN data stage (64 bytes of the probe pattern) and an OUT data stage (32 bytes), checked byte for byte;
 * 3. ZLP_ARM, then a bulk IN read that must end with a zero-length packet;
 * 4. HALT, a bulk IN that must stall, CLEAR_FEATURE(ENDPOINT_HALT), HALT_STATE (the device reads it back);
 * 5. SECOND_OPEN (the device opens its interface again) and REPORT (the device's findings as JSON).
 *
 * A failed step is printed and recorded, and the walk goes on (except when the device is gone). One deadline
 * bounds waiting for the device and the whole walk; every transfer has its own libusb timeout too.
 */
import {
  HarnessError,
  PROBE_HANDSHAKE_FIRST,
  PROBE_REPORT_MAX_BYTES,
  PROBE_REQUEST,
  UsageError,
  isGone,
  probePattern,
  type Clock,
  type HarnessErrorJSON,
  type ProbeReport,
} from '../../core/index.js';
import { buildSetup, classInterface, encodeSetup } from '../setup-packet.js';
import type { UsbControlSetup, UsbDeviceHandle, UsbDeviceInfo, UsbHost } from '../usb-host.js';

/** Options of {@link runHostProbe}. */
export interface HostProbeOptions {
  readonly host: UsbHost;
  readonly vendorId: number;
  readonly productId: number;
  /** The harness clock (real on a bench, virtual in the simulator). */
  readonly clock: Clock;
  readonly print: (line: string) => void;
  /** One deadline for waiting for the device and the whole walk. Default 180 s. */
  readonly timeoutMs?: number | undefined;
  /** libusb timeout of each transfer. Default 5000 ms. */
  readonly transferTimeoutMs?: number | undefined;
  /** The function's interface; default the device's first interface. */
  readonly interfaceNumber?: number | undefined;
  /** The bulk IN endpoint used for the ZLP and halt steps. Default 0x81. */
  readonly bulkInEndpoint?: number | undefined;
}

/** One step as the host saw it. */
export interface HostProbeStep {
  readonly name: string;
  /** The 8 SETUP bytes in hex, for control requests. */
  readonly setup?: string | undefined;
  /** `ok`, `stall`, `babble`, or the libusb / harness error name. */
  readonly status: string;
  /** Bytes moved. */
  readonly bytes?: number | undefined;
  /** Bytes received, in hex. */
  readonly data?: string | undefined;
  /** Whether the step ended the way the probe expects. */
  readonly ok: boolean;
  readonly elapsedMs: number;
  readonly detail?: string | undefined;
}

/** What the host probe returns. */
export interface HostProbeResult {
  /** True when every step ran (the device's REPORT arrived). */
  readonly complete: boolean;
  readonly device?: UsbDeviceInfo | undefined;
  readonly steps: readonly HostProbeStep[];
  /** The device's findings (REPORT), when it arrived. */
  readonly report?: ProbeReport | undefined;
  readonly error?: HarnessErrorJSON | undefined;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const statusOf = (err: unknown): string =>
  err instanceof HarnessError ? String(err.data['libusbName'] ?? err.code) : err instanceof Error ? err.message : String(err);

/**
 * Runs the host probe against the first device with `vendorId:productId`; resolves with what it saw (also
 * when it stopped early: then `complete` is false and `error` says why).
 * @throws UsageError INVALID_ARGUMENT for a bad timeout.
 */
export async function runHostProbe(options: HostProbeOptions): Promise<HostProbeResult> {
  const { host, clock, print } = options;
  const timeoutMs = options.timeoutMs ?? 180_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('INVALID_ARGUMENT', `probe timeout ${timeoutMs} ms: give a positive number of ms`);
  const deadline = clock.now() + timeoutMs;
  const transferTimeoutMs = options.transferTimeoutMs ?? 5000;
  const bulkIn = options.bulkInEndpoint ?? 0x81;
  const steps: HostProbeStep[] = [];
  const id = `${hexId(options.vendorId)}:${hexId(options.productId)}`;
  let device: UsbDeviceInfo | undefined;
  let handle: UsbDeviceHandle | undefined;
  let report: ProbeReport | undefined;
  let error: unknown;
  const remaining = (): number => {
    const left = Math.ceil(deadline - clock.now());
    if (left <= 0) throw new UsageError('PROBE_TIMEOUT', `the host probe ran out of its ${timeoutMs} ms; give a longer --timeout`);
    return left;
  };
  const record = (step: HostProbeStep): HostProbeStep => {
    steps.push(step);
    const parts = [`${step.ok ? 'ok  ' : 'FAIL'} ${step.name}`, step.setup === undefined ? '' : `setup ${step.setup}`, `→ ${step.status}`];
    if (step.bytes !== undefined) parts.push(`${step.bytes} bytes`);
    if (step.data !== undefined && step.data !== '') parts.push(`data ${step.data.length <= 256 ? step.data : `${step.data.slice(0, 256)}…(${step.data.length / 2} bytes)`}`);
    parts.push(`(${step.elapsedMs.toFixed(1)} ms)`);
    if (step.detail !== undefined) parts.push(`— ${step.detail}`);
    print(parts.filter((p) => p !== '').join('  '));
    return step;
  };

  try {
    print(`waiting for ${id}: start \`usbfn-hil device probe\` on the device, then plug the cable into this PC (up to ${Math.round(timeoutMs / 1000)} s)`);
    device = await host.waitForDevice({ vendorId: options.vendorId, productId: options.productId }, { timeoutMs: remaining() });
    print(`found ${device.id}: ${device.speed} speed, bcdDevice 0x${device.deviceVersion.toString(16)}, interfaces ${device.interfaces.map((i) => `${i.interfaceNumber} (class 0x${i.interfaceClass.toString(16)})`).join(', ')}`);
    handle = await host.open(device, { timeoutMs: Math.min(transferTimeoutMs, remaining()) });
    const iface = options.interfaceNumber ?? device.interfaces[0]?.interfaceNumber ?? 0;
    await handle.claimInterface(iface);
    const h = handle;
    const setupOf = (request: number, value = 0, indexHigh = 0): UsbControlSetup => classInterface(iface, request, value, indexHigh);
    const timed = async <T>(run: () => Promise<T>): Promise<{ value?: T; error?: unknown; elapsedMs: number }> => {
      const t0 = clock.now();
      try {
        const value = await run();
        return { value, elapsedMs: clock.now() - t0 };
      } catch (err) {
        if (isGone(err)) throw err;
        return { error: err, elapsedMs: clock.now() - t0 };
      }
    };
    const control = async (
      name: string,
      setup: UsbControlSetup,
      stage: { in: number } | { out: Uint8Array },
      expect?: (data: Uint8Array) => string | undefined,
    ): Promise<{ ok: boolean; data?: Uint8Array | undefined }> => {
      const isIn = 'in' in stage;
      const raw = hex(encodeSetup(buildSetup(setup, isIn ? 'in' : 'out', isIn ? stage.in : stage.out.length)));
      const options = { timeoutMs: Math.min(transferTimeoutMs, remaining()) };
      type Outcome = { status: string; bytes: number; data: Uint8Array | undefined };
      const r = await timed(
        (): Promise<Outcome> =>
          isIn
            ? h.controlIn(setup, stage.in, options).then((x) => ({ status: x.status, bytes: x.data.length, data: x.data }))
            : h.controlOut(setup, stage.out, options).then((x) => ({ status: x.status, bytes: x.bytesWritten, data: undefined })),
      );
      if (r.value === undefined) {
        record({ name, setup: raw, status: statusOf(r.error), ok: false, elapsedMs: r.elapsedMs });
        return { ok: false };
      }
      const problem = r.value.status !== 'ok' ? `expected ok` : r.value.data !== undefined && expect !== undefined ? expect(r.value.data) : undefined;
      record({
        name,
        setup: raw,
        status: r.value.status,
        bytes: r.value.bytes,
        data: r.value.data === undefined ? undefined : hex(r.value.data),
        ok: problem === undefined,
        elapsedMs: r.elapsedMs,
        detail: problem,
      });
      return { ok: problem === undefined, data: r.value.data };
    };
    const patternCheck = (seed: number, length: number) => (data: Uint8Array): string | undefined => {
      const want = probePattern(seed, length);
      return data.length === length && data.every((b, i) => b === want[i]) ? undefined : `expected ${length} bytes of the probe pattern (seed ${seed})`;
    };

    print('\nno-data class requests (drv-no-data-handshake): the device answers HANDSHAKE_IN first, then HANDSHAKE_OUT first');
    await control('NO_DATA (device tries HANDSHAKE_IN first)', setupOf(PROBE_REQUEST.NO_DATA, PROBE_HANDSHAKE_FIRST.IN), { out: new Uint8Array(0) });
    await control('NO_DATA (device tries HANDSHAKE_OUT first)', setupOf(PROBE_REQUEST.NO_DATA, PROBE_HANDSHAKE_FIRST.OUT), { out: new Uint8Array(0) });

    print('\ndata stages on EP0 (drv-pipe-ids: control replies on the EP0 pipe id)');
    await control('IN_DATA 64 bytes', setupOf(PROBE_REQUEST.IN_DATA, 0x21), { in: 64 }, patternCheck(0x21, 64));
    await control('OUT_DATA 32 bytes', setupOf(PROBE_REQUEST.OUT_DATA, 0x42), { out: probePattern(0x42, 32) });

    print(`\na 0-byte TRANSFER_IN on 0x${bulkIn.toString(16)} (link-zero-length-in)`);
    if ((await control('ZLP_ARM', setupOf(PROBE_REQUEST.ZLP_ARM, 0, bulkIn), { out: new Uint8Array(0) })).ok) {
      const r = await timed(() => h.bulkIn(bulkIn, 512, { timeoutMs: Math.min(transferTimeoutMs, remaining()) }));
      record(
        r.value === undefined
          ? { name: `bulk IN 0x${bulkIn.toString(16)} (expecting a ZLP)`, status: statusOf(r.error), ok: false, elapsedMs: r.elapsedMs }
          : { name: `bulk IN 0x${bulkIn.toString(16)} (expecting a ZLP)`, status: r.value.status, bytes: r.value.data.length, data: hex(r.value.data), ok: r.value.status === 'ok' && r.value.data.length === 0, elapsedMs: r.elapsedMs, detail: r.value.data.length === 0 ? 'a zero-length packet' : 'expected a zero-length packet' },
      );
    }

    print(`\nhalt and clear of 0x${bulkIn.toString(16)}`);
    if ((await control('HALT', setupOf(PROBE_REQUEST.HALT, 0, bulkIn), { out: new Uint8Array(0) })).ok) {
      const stalled = await timed(() => h.bulkIn(bulkIn, 64, { timeoutMs: Math.min(transferTimeoutMs, remaining()) }));
      record({ name: `bulk IN 0x${bulkIn.toString(16)} on the halted endpoint`, status: stalled.value?.status ?? statusOf(stalled.error), ok: stalled.value?.status === 'stall', elapsedMs: stalled.elapsedMs });
      const cleared = await timed(() => h.clearHalt(bulkIn, { timeoutMs: Math.min(transferTimeoutMs, remaining()) }));
      record({ name: `CLEAR_FEATURE(ENDPOINT_HALT) 0x${bulkIn.toString(16)}`, status: cleared.error === undefined ? 'ok' : statusOf(cleared.error), ok: cleared.error === undefined, elapsedMs: cleared.elapsedMs });
      await control('HALT_STATE (device reads GET_PIPE_STATE)', setupOf(PROBE_REQUEST.HALT_STATE, 0, bulkIn), { in: 1 }, (d) => (d.length === 1 && d[0] === 0 ? undefined : 'expected 0 (not halted) after the clear'));
    }

    print('\na second open on the device (drv-exclusive-open)');
    const second = (await control('SECOND_OPEN', setupOf(PROBE_REQUEST.SECOND_OPEN), { in: 8 }, (d) => (d.length === 8 ? undefined : 'expected 8 bytes'))).data;
    if (second?.length === 8) {
      const win32 = new DataView(second.buffer, second.byteOffset, 8).getUint32(0, true);
      print(`  the device's second CreateFileW ${win32 === 0 ? 'succeeded' : `failed with Win32 error ${win32}`}`);
    }

    print('\nthe device\'s findings (REPORT)');
    const bytes = (await control('REPORT', setupOf(PROBE_REQUEST.REPORT), { in: PROBE_REPORT_MAX_BYTES })).data;
    if (bytes !== undefined) {
      try {
        report = JSON.parse(new TextDecoder().decode(bytes)) as ProbeReport;
        for (const f of report.findings) print(`  ${f.verdict.padEnd(11)} ${f.id}: ${f.observed}`);
        print(`  recommended driver settings: ${JSON.stringify(report.recommendedSettings)}`);
      } catch (err) {
        record({ name: 'REPORT is JSON', status: 'DECODE', ok: false, elapsedMs: 0, detail: (err as Error).message });
      }
    }
  } catch (err) {
    error = err;
    print(`\nthe host probe stopped: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await handle?.close().catch(() => undefined);
  }
  const failed = steps.filter((s) => !s.ok).length;
  print(`\nhost probe: ${steps.length} steps, ${failed} not as expected${report === undefined ? ', no report from the device' : ''}`);
  return {
    complete: report !== undefined,
    device,
    steps,
    report,
    ...(error === undefined ? {} : { error: error instanceof HarnessError ? error.toJSON() : { name: 'Error', code: 'UNEXPECTED', message: String(error), data: {} } }),
  };
}

function hexId(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}
