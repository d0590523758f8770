/**
 * The `sim` rig: every session is a fresh simulated world (docs/architecture.md#worlds) built with `simWorld()`: the real
 * device-side service and test function over `SimUsbFnPort`, the real host agent over `SimUsbHost`, on a
 * virtual clock seeded from the scenario's seed, with every URB written to a usbmon capture.
 */
import { UsbmonPcapWriter } from '../simulator/index.js';
import type { Rig, Session, WorldOptions } from './rig.js';
import { simWorld, type StartedSimWorld } from './world/index.js';

/** Captured bytes per URB record: enough to read any control transfer and the start of bulk data. */
const CAPTURE_SNAPLEN = 64 * 1024;

/** Range of the seeded Configuration Manager callback latency (real CM delivers from a worker thread, later). */
const CM_LATENCY_MS = { min: 0, max: 2 } as const;

/** `USBFN_HIL_SIM_CLOCK=real` runs every simulated world on the wall clock (see {@link SimRig}). */
export const SIM_CLOCK_ENV = 'USBFN_HIL_SIM_CLOCK';

export class SimRig implements Rig {
  readonly mode = 'sim' as const;
  readonly #sessions = new Set<StartedSimWorld>();
  readonly #realTime: boolean;

  /**
   * @param options.realTime worlds on the wall clock instead of virtual time: a scenario then takes as
   *   long as on a device (a 30 s timeout waits 30 s). For measuring what the lab code path adds to the same
   *   scenarios (`npm run bench`, labSim), and for timing bugs virtual time hides. Default: virtual time.
   */
  constructor(options: { realTime?: boolean | undefined } = {}) {
    this.#realTime = options.realTime ?? false;
  }

  async openSession(args: { name: string; seed: number; world: WorldOptions }): Promise<Session> {
    const world = await simWorld()
      .withSeed(args.seed)
      .withCapture(new UsbmonPcapWriter({ snaplen: CAPTURE_SNAPLEN }))
      // Seeded jitter: each scenario seed delivers CM notifications at different moments, so a suite run
      // explores orderings a fixed schedule never would, and a failing order replays from its seed.
      .withCmLatency(CM_LATENCY_MS)
      .withRealTime(this.#realTime)
      .withOptions(args.world)
      .start();
    this.#sessions.add(world);
    void world.closed.then(() => this.#sessions.delete(world));
    return world;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#sessions].map((s) => s.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
