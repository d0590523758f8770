/**
 * allure-vitest's reporter with the harness's conventions, so that a report holds what a reader came for:
 * - only scenarios (the unit project's results are left out: they belong in the test runner's output), and
 *   only this run's: a run with a scenario project (`npm test`, `usbfn-hil run`) starts from an empty results
 *   folder, as allure-vitest would otherwise add its results to the previous run's;
 * - steps are the protocol phases scenarios name (`phase(...)`), not an auto-recorded step per `expect`;
 * - a failure is `failed` when the product misbehaved (an assertion, or a typed error of the device or host
 *   code: WIN32, LIBUSB, TIMEOUT, …) and `broken` when the bench or the harness did (the agent unreachable,
 *   a bad lab configuration, an untyped exception): Allure's default calls every non-assertion error
 *   broken, which would file a Win32 error of the device beside a lost network cable;
 * - each scenario's results are written as soon as it ends (allure-vitest writes them all when the run ends,
 *   holding every attachment in memory until then), by {@link AllureResultsWriter}, and its attachments come
 *   as files the worker staged (harness/allure.ts): the report's cost per scenario stays flat as a suite grows.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import AllureVitestReporter, { type AllureVitestReporterConfig } from 'allure-vitest/reporter';
import type { RunnerTask } from 'vitest';
import type { TestCase, TestModule, Vitest } from 'vitest/node';
import { AllureResultsWriter, attachmentStagingDir } from './allure-results-writer.js';
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

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where scenario workers stage attachment files for the Allure reporter (harness/allure.ts). */
    allureStagingDir: string | undefined;
  }
}

/** The reporter's runtime, whose writer is a public field of allure-js-commons' ReporterRuntime. */
interface WithRuntime {
  allureReporterRuntime: { writer: unknown };
}

export default class ScenarioAllureReporter extends AllureVitestReporter {
  readonly #resultsDir: string;
  #stagingDir: string | undefined;
  #writer: AllureResultsWriter | undefined;
  /** Tests whose results are written already (when they ended), skipped when the run ends. */
  readonly #written = new WeakSet<RunnerTask>();

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
    this.#writer = new AllureResultsWriter(dir);
    (this as unknown as WithRuntime).allureReporterRuntime.writer = this.#writer;
    const staging = attachmentStagingDir(dir);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    this.#stagingDir = staging;
    for (const project of vitest.projects) project.provide('allureStagingDir', SCENARIO_PROJECTS.has(project.name) ? staging : undefined);
  }

  onTestCaseResult(testCase: TestCase): void {
    const task = (testCase as unknown as { task: RunnerTask }).task;
    this.handleTask(task);
    // Written: the attachments' messages (paths, or base64 from a caller that did not stage) can go.
    delete (task.meta as { allureRuntimeMessages?: unknown }).allureRuntimeMessages;
  }

  override async onTestRunEnd(testModules: readonly TestModule[], ...rest: unknown[]): Promise<void> {
    (super.onTestRunEnd as (m: readonly TestModule[], ...r: unknown[]) => void)(testModules, ...rest);
    try {
      // The results are written in the background (AllureResultsWriter): the run ends when they are on disk.
      await this.#writer?.flush();
    } finally {
      // Files staged by tests that were never reported (not a scenario project, or interrupted).
      if (this.#stagingDir !== undefined) rmSync(this.#stagingDir, { recursive: true, force: true });
    }
  }

  override handleTask(task: RunnerTask): void {
    if (task.type === 'test') {
      if (this.#written.has(task)) return;
      this.#written.add(task);
    }
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
