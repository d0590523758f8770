/**
 * allure-vitest's reporter with the harness's conventions, so that a report holds what a reader came for:
 * - only scenarios (the unit project's results are left out: they belong in the test runner's output), and
 *   only this run's: a run with a scenario project (`npm test`, `usbfn-hil run`) starts from an empty results
 *   folder, as allure-vitest would otherwise add its results to the previous run's;
 * - steps are the protocol phases scenarios name (`phase(...)`), not an auto-recorded step per `expect`;
 * - a failure is `failed` when the product misbehaved (an assertion, or a typed error of the device or host
 *   code: WIN32, LIBUSB, TIMEOUT, …) and `broken` when the bench or the harness did (the agent unreachable,
 *   a bad lab configuration, an untyped exception): Allure's default calls every non-assertion error
 *   broken, which would file a Win32 error of the device beside a lost network cable.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import AllureVitestReporter, { type AllureVitestReporterConfig } from 'allure-vitest/reporter';
import type { RunnerTask } from 'vitest';
import type { Vitest } from 'vitest/node';
import { failureOutcome, isAssertion, type ReportedError } from './outcome.js';

/** Projects whose results go into the report. */
const SCENARIO_PROJECTS = new Set(['sim', 'lab', 'lab-sim']);

function projectOf(task: RunnerTask): string | undefined {
  return (task.file as { projectName?: string } | undefined)?.projectName;
}

/** Marks an error object so that Allure's classifier calls it a failure (it looks for `matcherResult`). */
function asFailure(error: object): object {
  return Object.assign(Object.create(Object.getPrototypeOf(error) as object) as object, error, { matcherResult: { pass: false } });
}

/** What allure-vitest writes into a results folder; nothing else there is removed. */
const ALLURE_FILE = /(?:-result\.json|-container\.json|-attachment\.[A-Za-z0-9]+|^environment\.properties|^categories\.json|^executor\.json)$/;

export default class ScenarioAllureReporter extends AllureVitestReporter {
  readonly #resultsDir: string;

  constructor(config: AllureVitestReporterConfig) {
    super({ ...config, reportMatchers: false });
    this.#resultsDir = config.resultsDir ?? 'allure-results';
  }

  override onInit(vitest: Vitest): void {
    // `vitest list` (usbfn-hil list, sharding) runs nothing: it must not cost the last run's results.
    const runsScenarios = vitest.projects.some((p) => SCENARIO_PROJECTS.has(p.name)) && process.env['USBFN_HIL_LIST'] !== '1';
    const dir = resolve(vitest.config.root, this.#resultsDir);
    if (runsScenarios && existsSync(dir)) {
      for (const f of readdirSync(dir)) if (ALLURE_FILE.test(f)) rmSync(join(dir, f), { force: true });
    }
    super.onInit(vitest);
  }

  override handleTask(task: RunnerTask): void {
    const project = projectOf(task);
    if (project === undefined || !SCENARIO_PROJECTS.has(project)) return;
    const errors = task.result?.errors;
    const first = errors?.[0] as (object & ReportedError) | undefined;
    // Allure already files assertions as failed and everything else as broken; only typed product errors
    // need moving to failed.
    if (task.type !== 'test' || errors === undefined || first === undefined || isAssertion(first) || failureOutcome(first) === 'broken') {
      super.handleTask(task);
      return;
    }
    // Classify for Allure only; the task (seen by every other reporter) is restored at once.
    errors[0] = asFailure(first) as (typeof errors)[number];
    try {
      super.handleTask(task);
    } finally {
      errors[0] = first as (typeof errors)[number];
    }
  }
}
