/**
 * Vitest projects (docs/architecture.md#tests):
 * - `unit`: colocated `*.test.ts` next to their source (codecs, state machines, models, contracts);
 * - `sim`: the scenario suite on the simulator (`provide: { mode: 'sim' }`);
 * - `lab`: the same scenarios on a real device + host PC (`provide: { mode: 'lab' }`, one file at a time).
 * System-tool tiers (tshark, umockdev, Wine, USB/IP) and the CLI and report tiers (the CLI as a process, the
 * report in headless Chromium) have their own configs under .ci/ and run from .ci/run.
 * allure-vitest writes results to reports/allure-results for every project, with the report categories and
 * environment information.
 */
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const categories = JSON.parse(readFileSync(new URL('./reports/allure-categories.json', import.meta.url), 'utf8')) as unknown[];
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };
/** The installed version of a dependency (what actually ran), not the range in package.json. */
const installed = (name: string): string => {
  try {
    return (JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
};

// Reporters are declared here, not on the command line (a --reporter option would replace them all and drop
// the report). `usbfn-hil run` selects the run summary as the progress reporter; `npm test` keeps vitest's
// default output and adds the summary table of the scenario projects.
const cliRun = process.env['USBFN_HIL_CLI_RUN'] === '1';
const labRun = (process.env['USBFN_HIL_MODE'] ?? 'sim') !== 'sim';
const summaryReporter: [string, Record<string, unknown>] = [
  './harness/report/run-summary-reporter.ts',
  { progress: cliRun ? (labRun ? 'scenario' : 'file') : 'none' },
];
const allureReporter: [string, Record<string, unknown>] = [
  './harness/report/scenario-allure-reporter.ts',
  {
    resultsDir: 'reports/allure-results',
    categories,
    environmentInfo: {
      'usbfn-hil': pkg.version,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      vitest: installed('vitest'),
      'allure-vitest': installed('allure-vitest'),
      usb: installed('usb'),
      koffi: installed('koffi'),
      mode: process.env['USBFN_HIL_MODE'] ?? 'sim',
      // Replaced by harness/global-setup.ts with the seed actually used once the run has chosen it.
      seed: process.env['USBFN_HIL_SEED'] ?? 'unit tests only (no run seed)',
    },
  },
];

const tags = [
  { name: 'lab-only' as const, description: 'needs real hardware; skipped in sim' },
  { name: 'sim-only' as const, description: 'needs fault injection through the `sim` fixture; skipped in lab' },
  { name: 'hotplug' as const, description: 'unplugs, replugs or removes the device' },
  { name: 'slow' as const, description: 'long real waits (soak, stress, 30-second timeouts): free on the simulator\'s virtual clock, left out of lab-sim' },
  {
    name: 'local-host' as const,
    description: 'needs a host controller on the host PC: libusb semantics USB/IP cannot carry (the bytes a timed-out bulk IN had received); left out of lab-sim',
  },
];

export default defineConfig({
  test: {
    reporters: cliRun ? [summaryReporter, allureReporter] : ['default', summaryReporter, allureReporter],
    setupFiles: ['allure-vitest/setup'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    tags,
    // Transformed modules are cached on disk (node_modules/.experimental-vitest-cache, keyed by content):
    // a run's fixed cost is transforming the harness, sides and simulator (~600 TypeScript files), 2.5 s
    // of a 6.6 s sim suite; with the cache the suite takes 4.3 s (bench/README.md#scaling).
    experimental: { fsModuleCache: true },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{core,harness,simulator,host-side,device-side,bench}/**/*.test.ts'],
          // bench/scaling.ts writes generated scenario files there while it measures.
          exclude: ['bench/.generated/**'],
          // No test mocks modules or globals (checked: no vi.mock/stubGlobal/useFakeTimers), so one module
          // graph per worker serves every file.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'sim',
          include: ['scenarios/**/*.test.ts'],
          provide: { mode: 'sim' },
          // Scenarios share no module state (every session builds a fresh world), so files may reuse one
          // module graph per worker instead of re-importing the harness and simulator for each file.
          isolate: false,
          globalSetup: ['harness/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          // The lab code path over a simulated device: the agent (sim backend) in its own process, the host
          // side over USB/IP, the real clock. One device, so one file at a time.
          name: 'lab-sim',
          include: ['scenarios/**/*.test.ts'],
          provide: { mode: 'lab-sim' },
          fileParallelism: false,
          // As in sim: no module state is shared between scenarios (each file opens its own rig), and a
          // fresh module graph per file cost more than the scenarios themselves (1.5 s a file).
          isolate: false,
          globalSetup: ['harness/global-setup.ts', 'harness/lab-sim/lab-sim-global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'lab',
          include: ['scenarios/**/*.test.ts'],
          provide: { mode: 'lab' },
          fileParallelism: false,
          isolate: false,
          globalSetup: ['harness/global-setup.ts', 'harness/lab-global-setup.ts'],
        },
      },
    ],
  },
});
