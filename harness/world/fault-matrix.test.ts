/**
 * The fault matrix (issue 14 item 6): every fault × every phase on a simulated world, on the virtual clock.
 *
 * Each cell starts one operation with a 2000 ms timeout (enumeration: opening the agent on a device just plugged
 * in; control data stage: a 65,535-byte READ_PATTERN, a 4.1 ms data stage at high speed; bulk OUT: a 1 MiB write;
 * bulk IN: reading a 1 MiB echo), lands its fault while the operation is in flight, and checks
 * - that the fault landed inside the operation (from the capture, or the device's logs): no vacuous cell;
 * - that the operation ends within its timeout with a typed error, or with a documented ok and why;
 * - that after recovery (undo the fault, unplug and replug) a verified 4096 + 1000-byte loopback works.
 *
 * The faults come through the scenarios' `sim` controls (harness/world/sim-controls.ts); only the moment they land is
 * picked here, at a URB of the operation (`bus.atUrb`) plus a short delay on the virtual clock.
 * @see docs/simulator.md#faults-the-sim-fixture, docs/simulator-link.md#interrupting-data-in-flight
 */
import { describe, expect, it } from 'vitest';
import { delay, HarnessError, TEST_REQUEST, USB_REQUEST } from '../../core/index.js';
import type { HostAgent } from '../../host-side/index.js';
import type { UrbEvent } from '../../simulator/index.js';
import type { UrbStep } from './sim-controls.js';
import { simWorld } from './sim-world.js';
import type { StartedSimWorld } from './started-sim-world.js';

const TIMEOUT_MS = 2000;
const MIB = 1024 * 1024;
const CONTROL_BYTES = 65_535;
const OUT = 0x01;
const IN = 0x81;

const PHASES = ['enumeration', 'control data stage', 'bulk OUT', 'bulk IN'] as const;
type Phase = (typeof PHASES)[number];
const FAULTS = ['unplug', 'port reset', 'suspend', 'query-remove', 'surprise removal', 'driver error', 'dropped notification', 'host timeout'] as const;
type Fault = (typeof FAULTS)[number];

/** Where each phase's fault lands: the operation's URB, and how long after its submission (virtual ms). */
const LANDING: Readonly<Record<Phase, { step: UrbStep; afterMs: number }>> = {
  // Mid-enumeration: 2 µs into SET_ADDRESS (its SETUP and status stages take 8 µs), after the first descriptor read
  // and the second reset.
  enumeration: { step: { transferType: 'control', bRequest: USB_REQUEST.SET_ADDRESS }, afterMs: 0.002 },
  // 0.5 ms into a 4.1 ms data stage (plus up to 2 ms of CM latency for the PnP faults).
  'control data stage': { step: { transferType: 'control', bRequest: TEST_REQUEST.READ_PATTERN }, afterMs: 0.5 },
  // 1 ms into a 19.7 ms run of packets.
  'bulk OUT': { step: { transferType: 'bulk', endpoint: OUT }, afterMs: 1 },
  'bulk IN': { step: { transferType: 'bulk', endpoint: IN }, afterMs: 1 },
};

/** The IOCTL whose pending request serves each phase on the device (the driver error's target). */
const SERVING_IOCTL: Readonly<Record<Phase, { ioctl: string; pipe?: number }>> = {
  enumeration: { ioctl: 'BUS_EVENT_NOTIFICATION' },
  'control data stage': { ioctl: 'TRANSFER_IN', pipe: 0 },
  'bulk OUT': { ioctl: 'TRANSFER_OUT' },
  'bulk IN': { ioctl: 'TRANSFER_IN_APPEND_ZERO_PKT' },
};

/** What a cell observed. */
interface CellRun {
  readonly world: StartedSimWorld;
  readonly events: readonly UrbEvent[];
  /** The operation's result, or its error. */
  readonly outcome: unknown;
  /** Virtual ms from the operation's start to its end. */
  readonly elapsedMs: number;
  /** Virtual time the operation started and the fault landed (ms). */
  readonly startMs: number;
  readonly faultMs: number | undefined;
  /** The completion record of the operation's URB (bulk and control phases). */
  readonly completion: UrbEvent | undefined;
}

function seedOf(fault: Fault, phase: Phase): number {
  return 0x5eed0000 + FAULTS.indexOf(fault) * 16 + PHASES.indexOf(phase);
}

/** Runs one cell up to the end of its operation; the caller checks it, then recovers. */
async function runCell(fault: Fault, phase: Phase): Promise<CellRun> {
  const events: UrbEvent[] = [];
  const world = await simWorld()
    .withSeed(seedOf(fault, phase))
    .withCmLatency({ min: 0, max: 2 })
    .withUrbSink({ record: (e) => events.push(e) })
    .attached(phase !== 'enumeration')
    .start();
  const { sim, clock } = world;
  let agent: HostAgent | undefined;
  if (phase !== 'enumeration') agent = await world.agent();
  if (phase === 'bulk IN') {
    // The echo of 1 MiB waits on the device; the operation is reading it.
    await agent!.handle.bulkOut(OUT, new Uint8Array(MIB).fill(0x5a), { zeroLengthPacket: true });
    await delay(clock, 1);
    expect(sim.endpointState(IN).queuedDevice).toBe(1);
  }

  const { step, afterMs } = LANDING[phase];
  let faultMs: number | undefined;
  const at = (action: () => void): void => {
    world.simulation.bus.atUrb(step, 1, () =>
      clock.setTimer(afterMs, () => {
        faultMs = clock.now();
        action();
      }),
    );
  };
  const pnp: Promise<unknown>[] = [];
  switch (fault) {
    case 'unplug':
      if (phase === 'enumeration') {
        sim.unplugAt(step);
        world.simulation.bus.atUrb(step, 1, () => (faultMs = clock.now()));
      } else at(() => sim.unplug());
      break;
    case 'port reset':
      // Recorded first, so that the record is there when the reset ends the operation.
      world.simulation.bus.atUrb(step, 1, () => (afterMs === 0 ? (faultMs = clock.now()) : clock.setTimer(afterMs, () => (faultMs = clock.now()))));
      sim.resetAt(step, 1, afterMs);
      break;
    case 'suspend':
      at(() => sim.suspend());
      break;
    case 'query-remove':
      at(() => pnp.push(sim.queryRemove()));
      break;
    case 'surprise removal':
      at(() => pnp.push(sim.surpriseRemove()));
      break;
    case 'driver error': {
      const { ioctl, pipe } = SERVING_IOCTL[phase];
      at(() => expect(sim.failPendingIoctl(ioctl, 31, pipe === undefined ? {} : { pipe }), `a pending ${ioctl} to fail`).toBe(true));
      break;
    }
    case 'dropped notification':
      // The removal of the interface is followed by its re-arrival during recovery, whose notification is lost.
      sim.dropNotification('CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL');
      at(() => pnp.push(sim.surpriseRemove()));
      break;
    case 'host timeout':
      sim.timeoutNextUrb(phase === 'bulk OUT' ? OUT : phase === 'bulk IN' ? IN : 0);
      break;
  }

  const startMs = clock.now();
  const operation = ((): Promise<unknown> => {
    switch (phase) {
      case 'enumeration':
        sim.replug();
        return world.agent({ timeoutMs: TIMEOUT_MS });
      case 'control data stage':
        return agent!.readPattern(0, CONTROL_BYTES, { timeoutMs: TIMEOUT_MS });
      case 'bulk OUT':
        return agent!.handle.bulkOut(OUT, new Uint8Array(MIB).fill(0xa5), { zeroLengthPacket: true, timeoutMs: TIMEOUT_MS });
      case 'bulk IN':
        return agent!.handle.bulkIn(IN, MIB + 512, { timeoutMs: TIMEOUT_MS });
    }
  })();
  const outcome = await operation.then(
    (r) => r,
    (e: unknown) => e,
  );
  const elapsedMs = clock.now() - startMs;
  await Promise.all(pnp);
  const endpoint = phase === 'bulk OUT' ? OUT : phase === 'bulk IN' ? IN : 0x80;
  const completion =
    phase === 'enumeration' ? undefined : events.find((e) => e.kind === 'C' && e.endpoint === endpoint && e.timeUs >= startMs * 1000 && isOperationUrb(events, e, phase));
  return { world, events, outcome, elapsedMs, startMs, faultMs, completion };
}

/** True when completion `c` belongs to the operation's URB (its submission matches the phase). */
function isOperationUrb(events: readonly UrbEvent[], c: UrbEvent, phase: Phase): boolean {
  const s = events.find((e) => e.kind === 'S' && e.urbId === c.urbId);
  if (s === undefined) return false;
  if (phase === 'control data stage') return s.setup?.[1] === TEST_REQUEST.READ_PATTERN;
  return true;
}

/** Undoes what the fault left behind, replugs, and loops back 4096 + 1000 verified bytes. */
async function recover(run: CellRun, fault: Fault): Promise<void> {
  const { world } = run;
  const { sim } = world;
  world.simulation.resetFaults();
  if (fault === 'suspend') sim.resume();
  if (fault === 'query-remove' || fault === 'surprise removal' || fault === 'dropped notification') sim.arrive();
  // The service is back on the interface (a lost arrival, or a torn-down bus-event loop, is found by its rescan).
  await world.device.whenActive({ timeoutMs: 30_000 });
  sim.unplug();
  sim.replug();
  const again = await world.reopenAgent({ timeoutMs: 10_000 });
  expect(await again.loopback(4096, { seed: 41 })).toMatchObject({ ok: true, bytesRead: 4096 });
  expect(await again.loopback(1000, { seed: 42 })).toMatchObject({ ok: true, bytesRead: 1000 });
}

/** How a cell's operation must end, and the evidence that its fault landed inside it. */
interface CellExpectation {
  /** The outcome in words (the test title). */
  readonly says: string;
  /** The libusb name or error name it ends with; `ok` for a documented ok. */
  readonly ends: string;
  /** When it ends: at the fault, or at its own timeout (2000 ms). */
  readonly at?: 'fault' | 'timeout' | undefined;
  /** Checks that the fault landed while the operation was in flight (and, for an ok, why it is ok). */
  readonly landed: (run: CellRun) => void | Promise<void>;
}

const fromStartMs = (run: CellRun, e: UrbEvent | undefined): number => (e === undefined ? Number.POSITIVE_INFINITY : e.timeUs / 1000 - run.startMs);
const requested = (phase: Phase): number => (phase === 'control data stage' ? CONTROL_BYTES : phase === 'bulk OUT' ? MIB : MIB + 512);
const driverLog = (run: CellRun) => run.world.simulation.function().driver.log.entries();

/**
 * The operation's URB stopped where the fault hit it: `status`, with part of its data moved; and the device's
 * request serving it ended at the fault with `deviceOutcome` (cancelled, or the injected error), not ok.
 */
function stoppedMidway(phase: Phase, status: number, deviceOutcome: string) {
  return (run: CellRun): void => {
    expect(run.completion, 'the operation URB completed').toMatchObject({ status });
    expect(run.completion!.length).toBeGreaterThan(0);
    expect(run.completion!.length).toBeLessThan(requested(phase));
    expect(run.faultMs).toBeDefined();
    const { ioctl, pipe } = SERVING_IOCTL[phase];
    const served = driverLog(run).filter((e) => e.kind === 'ioctl' && e.ioctl === `IOCTL_GENERICUSBFN_${ioctl}` && (pipe === undefined || e.pipe === pipe) && e.timeMs >= run.startMs);
    expect(served.map((e) => (e.kind === 'ioctl' ? e.outcome : '')), 'the device request serving the operation').toContain(deviceOutcome);
    expect(served.map((e) => (e.kind === 'ioctl' ? e.outcome : ''))).not.toContain('ERROR_SUCCESS');
  };
}

/** A documented ok: the fault landed before the operation's last packet, and a suspend waited for the bus to go idle. */
function finishedDespite(fault: 'suspend' | 'driver error') {
  return async (run: CellRun): Promise<void> => {
    const done = fromStartMs(run, run.completion);
    expect(run.faultMs! - run.startMs, 'the fault landed before the operation ended').toBeLessThan(done);
    if (fault === 'suspend') {
      await delay(run.world.clock, 5);
      // ASSUMPTION(link-suspend-busy-port): the host suspends an idle port only, 3 ms after its last packet.
      const suspended = driverLog(run).find((e) => e.kind === 'busEvent' && e.event === 'suspend');
      expect(suspended, 'the device saw the suspend').toBeDefined();
      expect(suspended!.timeMs - run.startMs).toBeGreaterThanOrEqual(done + 3 - 1e-9);
    } else {
      // The driver failed the request in use at the fault; the function's next queued buffer took the rest.
      const failed = driverLog(run).find((e) => e.kind === 'ioctl' && e.win32 === 31);
      expect(failed, 'the driver failed a request').toMatchObject({ ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_OUT', timeMs: run.faultMs });
    }
  };
}

/** Enumeration: the fault came after the host's first request and before the device was configured. */
function midEnumeration(run: CellRun): void {
  const controls = run.events.filter((e) => e.transferType === 'control');
  const first = controls.find((e) => e.kind === 'S');
  const configured = controls.find((e) => e.kind === 'C' && e.status === 0 && run.events.some((s) => s.urbId === e.urbId && s.kind === 'S' && s.setup?.[1] === USB_REQUEST.SET_CONFIGURATION));
  expect(run.faultMs! - run.startMs).toBeGreaterThan(fromStartMs(run, first));
  expect(run.faultMs! - run.startMs).toBeLessThan(fromStartMs(run, configured));
}

const STATUS = { ok: 0, noDevice: -19, shutdown: -108, unlinked: -104 } as const;
/** How the device's request ends when a removal, close, purge or CancelIoEx stops it (drv-purge-cancelled, drv-removed-while-open). */
const ABORTED = 'ERROR_OPERATION_ABORTED';

function expectation(fault: Fault, phase: Phase): CellExpectation {
  if (phase === 'enumeration') {
    switch (fault) {
      case 'unplug':
        return {
          says: 'the agent open ends TimeoutError at its deadline; SET_ADDRESS ended -ENODEV',
          ends: 'TimeoutError',
          at: 'timeout',
          landed: (run) => {
            const sa = run.events.find((e) => e.kind === 'S' && e.setup?.[1] === USB_REQUEST.SET_ADDRESS);
            expect(run.events.find((e) => e.kind === 'C' && e.urbId === sa?.urbId)).toMatchObject({ status: STATUS.noDevice, length: 0 });
          },
        };
      case 'port reset':
        return {
          says: 'ok: SET_ADDRESS ends -ESHUTDOWN and usbcore sends it again (documented retry)',
          ends: 'ok',
          landed: (run) => {
            const sets = run.events.filter((e) => e.kind === 'S' && e.setup?.[1] === USB_REQUEST.SET_ADDRESS);
            expect(run.events.find((e) => e.kind === 'C' && e.urbId === sets[0]?.urbId)).toMatchObject({ status: STATUS.shutdown });
            expect(sets.length).toBeGreaterThanOrEqual(2);
          },
        };
      case 'suspend':
        return {
          says: 'the agent open ends TimeoutError at its deadline; the next request waits for resume',
          ends: 'TimeoutError',
          at: 'timeout',
          landed: (run) => {
            midEnumeration(run);
            // SET_ADDRESS was on the wire and finished; the request after it never started.
            const waiting = run.events.filter((e) => e.kind === 'S' && e.transferType === 'control' && e.timeUs / 1000 > run.faultMs!);
            expect(waiting).toHaveLength(1);
            expect(run.events.some((e) => e.kind === 'C' && e.urbId === waiting[0]!.urbId)).toBe(false);
          },
        };
      case 'driver error':
        return {
          says: 'the agent open ends TimeoutError: the failed BUS_EVENT_NOTIFICATION tears the service down',
          ends: 'TimeoutError',
          at: 'timeout',
          landed: (run) => {
            midEnumeration(run);
            expect(driverLog(run).find((e) => e.kind === 'ioctl' && e.win32 === 31)).toMatchObject({ ioctl: 'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION' });
          },
        };
      case 'host timeout':
        return {
          says: 'the agent open ends TimeoutError: the first GET_DESCRIPTOR is lost for 5 s, then usbcore\'s retry enumerates',
          ends: 'TimeoutError',
          at: 'timeout',
          landed: async (run) => {
            const first = run.events.find((e) => e.kind === 'S' && e.transferType === 'control');
            expect(first?.setup?.[1]).toBe(USB_REQUEST.GET_DESCRIPTOR);
            expect(run.events.some((e) => e.kind === 'C' && e.urbId === first?.urbId), 'still in flight at the deadline').toBe(false);
            // Without a replug: the 64-byte read times out at 5 s, the host resets and reads again.
            await run.world.host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 10_000 });
            const c = run.events.find((e) => e.kind === 'C' && e.urbId === first?.urbId);
            expect(c).toMatchObject({ status: STATUS.unlinked, length: 0 });
            expect(fromStartMs(run, c)).toBeGreaterThanOrEqual(5000);
          },
        };
      default:
        return {
          says: 'the agent open ends TimeoutError: the function left mid-enumeration',
          ends: 'TimeoutError',
          at: 'timeout',
          landed: (run) => {
            midEnumeration(run);
            const removal = run.world.sim.cmLog().find((e) => e.kind === 'pnp' && e.outcome === 'removed');
            expect(removal, 'the device instance left').toBeDefined();
            expect(removal!.timeMs - run.startMs).toBeLessThan(TIMEOUT_MS);
          },
        };
    }
  }
  switch (fault) {
    case 'unplug':
      return { says: 'LIBUSB_TRANSFER_NO_DEVICE at the fault, with the bytes the bus carried', ends: 'LIBUSB_TRANSFER_NO_DEVICE', at: 'fault', landed: stoppedMidway(phase, STATUS.noDevice, ABORTED) };
    case 'port reset':
      return { says: 'LIBUSB_TRANSFER_CANCELLED at the reset, with the bytes the bus carried', ends: 'LIBUSB_TRANSFER_CANCELLED', at: 'fault', landed: stoppedMidway(phase, STATUS.shutdown, ABORTED) };
    case 'suspend':
      return { says: 'ok: the packets on the wire finish, the port suspends once idle (documented)', ends: 'ok', landed: finishedDespite('suspend') };
    case 'host timeout':
      return {
        says: 'LIBUSB_TRANSFER_TIMED_OUT at its timeout, nothing moved (the URB never reached the device)',
        ends: 'LIBUSB_TRANSFER_TIMED_OUT',
        at: 'timeout',
        landed: (run) => expect(run.completion).toMatchObject({ status: STATUS.unlinked, length: 0 }),
      };
    default:
      if (fault === 'driver error' && phase === 'bulk OUT') {
        return { says: 'ok: the driver fails the TRANSFER_OUT in use, the next queued buffer takes the rest (documented)', ends: 'ok', landed: finishedDespite('driver error') };
      }
      // The device's request stops mid-transfer (removed, closed or failed) and nothing else serves the host.
      return {
        says: 'LIBUSB_TRANSFER_TIMED_OUT at its timeout, with the bytes moved before the device stopped (NAK)',
        ends: 'LIBUSB_TRANSFER_TIMED_OUT',
        at: 'timeout',
        landed: stoppedMidway(phase, STATUS.unlinked, fault === 'driver error' ? 'ERROR_GEN_FAILURE' : ABORTED),
      };
  }
}

function outcomeName(outcome: unknown): string {
  if (outcome instanceof HarnessError) return (outcome as { libusbName?: string }).libusbName ?? outcome.name;
  if (outcome instanceof Error) return `untyped ${outcome.name}`;
  const status = (outcome as { status?: string } | undefined)?.status;
  return status === undefined || status === 'ok' ? 'ok' : status;
}

describe('fault matrix: every fault × every phase ends in time, typed, lands in flight and recovers', () => {
  for (const fault of FAULTS) {
    for (const phase of PHASES) {
      const expected = expectation(fault, phase);
      it(`${fault} × ${phase}: ${expected.says}`, async () => {
        const run = await runCell(fault, phase);
        try {
          expect(outcomeName(run.outcome)).toBe(expected.ends);
          if (expected.ends !== 'ok') expect(run.outcome).toBeInstanceOf(HarnessError);
          expect(run.elapsedMs).toBeLessThanOrEqual(TIMEOUT_MS);
          if (expected.at === 'timeout') expect(run.elapsedMs).toBeCloseTo(TIMEOUT_MS, 6);
          if (expected.at === 'fault') expect(run.startMs + run.elapsedMs).toBeCloseTo(run.faultMs!, 6);
          await expected.landed(run);
          await recover(run, fault);
        } finally {
          await run.world.close();
        }
      });
    }
  }
});
