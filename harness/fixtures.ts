/**
 * The scenario `test`: vitest's test extended with the harness fixtures (docs/architecture.md#tests).
 *
 * `mode` (worker, injected by the project: sim | lab) → `rig` (file: `openRig(mode)`) → per scenario a
 * `session` → `host` (UsbHost), `agent` (the function opened, claimed and configured), `device` (the device
 * side), `clock`, `capture`, and `sim` (simulator controls; sim only). `world` is an option scenarios
 * override with `test.override({ world: { ... } })` to start from another state (speed, function, unplugged).
 *
 * Every scenario automatically gets Allure labels (epic/feature from its path, story from its title, mode,
 * speed), its seed as a parameter, and as attachments its usbmon capture and the device event log.
 * A failing simulated scenario prints its seed and the command that replays it.
 *
 * @example
 * import { expect, test } from '../../harness/index.js';
 * test('echoes 512 bytes on the bulk pipes', async ({ agent }) => {
 *   const r = await agent.loopback(512);
 *   expect(r.ok).toBe(true);
 * });
 */
import { inject, test as base } from 'vitest';
import { attachCapture, attachJson, attachJsonLines, attachTimeline, labelScenario } from './allure.js';
import { scenarioTimeline } from './report/index.js';
import { ModeNotSupportedError } from '../core/index.js';
import { openRig, type Mode, type Rig, type Session, type WorldOptions } from './rig.js';
import { scenarioPath } from './scenario-filter.js';
import { formatSeed, scenarioSeed, SEED_ENV } from './seed.js';
import type { SimControls } from './world/index.js';

declare module 'vitest' {
  interface TestTags {
    tags: 'lab-only' | 'sim-only' | 'hotplug' | 'slow' | 'local-host';
  }
}

/** The describe blocks and the title of a test, outermost first. */
function namePath(task: { name: string; suite?: { name: string; suite?: unknown } | undefined }): string[] {
  const parts = [task.name];
  let s = task.suite as { name: string; suite?: unknown } | undefined;
  while (s !== undefined && s.name !== '') {
    parts.unshift(s.name);
    s = s.suite as { name: string; suite?: unknown } | undefined;
  }
  return parts;
}

/** The name a scenario's seed derives from. */
function fullName(task: { name: string; suite?: { name: string; suite?: unknown } | undefined }): string {
  return namePath(task).join(' > ');
}

/** Single-quoted for POSIX shells (a quote inside becomes '\''), so the replay line pastes as is. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** The fixtures that hold one scenario's world (dropped from the test context once it has ended). */
const PER_SCENARIO_FIXTURES = ['session', 'host', 'device', 'clock', 'capture', 'agent', 'sim'] as const;

export const test = base
  .extend('mode', { scope: 'worker', injected: true }, 'sim' as Mode)
  .extend('runSeed', { scope: 'worker', injected: true }, 0)
  .extend('rig', { scope: 'file' }, async ({ mode }, { onCleanup }): Promise<Rig> => {
    // A lab run's lease and broken latch come from its global setup (harness/lab-global-setup.ts).
    const rig = await openRig(mode, { lab: mode === 'sim' ? undefined : inject('labRun') });
    onCleanup(() => rig.close());
    return rig;
  })
  .extend('world', {} as WorldOptions)
  .extend('session', async ({ rig, world, runSeed, mode, task, onTestFailed, onTestFinished, skip }, { onCleanup }): Promise<Session> => {
    const name = fullName(task);
    // vitest keeps each test's context, with its fixture values, as long as the file's task tree: without
    // this every closed world of a file (simulator, service, host agent) would stay in memory until the file
    // ends. Test hooks of this kind run after the fixtures' cleanup, so nothing uses the values any more.
    onTestFinished((context) => {
      for (const key of PER_SCENARIO_FIXTURES) delete (context as unknown as Record<string, unknown>)[key];
    });
    const seed = scenarioSeed(runSeed, name);
    // A world the rig cannot give (lab: another speed, a bench latched broken) is skipped with the reason.
    const cannot = await rig.skipReason?.(world);
    if (cannot !== undefined) skip(cannot);
    onTestFailed(async ({ task: failed }) => {
      const errors = failed.result?.errors;
      // A bench that went away during the scenario is the cause, not the product: filed broken, cause first.
      const first = errors?.[0];
      const cause = first === undefined ? undefined : await rig.infrastructureCause?.(name, first);
      if (cause !== undefined && errors !== undefined) {
        errors.unshift({ name: cause.name, message: `${cause.message}\n(the scenario's own error, which followed from it, is next)`, stack: cause.stack, code: cause.code } as (typeof errors)[number]);
      }
      // Every failure of a simulated run names its seed and how to replay it.
      // --scenario selects exactly this scenario (file, describe blocks, title), whatever its name contains.
      const path = scenarioPath(task.file.name, namePath(task));
      const replay = `[seed ${formatSeed(seed)}; run seed ${formatSeed(runSeed)}] replay: ${SEED_ENV}=${formatSeed(runSeed)} npx usbfn-hil run --mode ${mode} --scenario ${shellQuote(path)}`;
      for (const e of failed.result?.errors ?? []) e.message = `${e.message}\n${replay}`;
    });
    const session = await rig.openSession({ name, seed, world });
    onCleanup(async () => {
      try {
        const { deviceLog, extras } = await session.artifacts();
        const pcap = session.capture.pcap();
        await attachTimeline('timeline', name, await scenarioTimeline(pcap, deviceLog, session));
        // A lab bench without a host capture has none (the reason is in the extras).
        if (pcap.byteLength > 0) await attachCapture('usb-capture', pcap);
        await attachJson('device-event-log', deviceLog);
        for (const [key, value] of Object.entries(extras)) {
          // An empty list (no unhandled control request, say) says nothing a missing attachment does not.
          if (Array.isArray(value) && value.length === 0) continue;
          // The device trace travels as JSON lines, the file `usbfn-hil trace check` reads.
          if (key === 'deviceTrace' && Array.isArray(value)) await attachJsonLines('device-trace', value);
          else await attachJson(key, value);
        }
      } finally {
        await session.close();
      }
    });
    await labelScenario({
      filePath: task.file.filepath,
      story: task.name,
      displayName: namePath(task).join(' › '),
      mode,
      speed: session.speed,
      seed: formatSeed(seed),
    });
    return session;
  })
  .extend('host', ({ session }) => Promise.resolve(session.host))
  .extend('device', ({ session }) => Promise.resolve(session.device))
  .extend('clock', ({ session }) => Promise.resolve(session.clock))
  .extend('capture', ({ session }) => Promise.resolve(session.capture))
  .extend('agent', ({ session }) => session.agent())
  .extend('sim', ({ session, mode, task, skip }): Promise<SimControls> => {
    if (session.sim !== undefined) return Promise.resolve(session.sim);
    if (task.tags?.includes('sim-only')) {
      skip(`needs the simulator's fault injection ('sim' fixture), which mode '${mode}' cannot provide`);
    }
    throw new ModeNotSupportedError(
      "the 'sim' fixture",
      mode,
      "tag the scenario { tags: ['sim-only'] } so other modes skip it, or assert through the host instead",
    );
  });

export { expect, describe } from 'vitest';
