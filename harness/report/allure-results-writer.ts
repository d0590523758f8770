/**
 * Where the scenario reporter writes Allure results: allure-js-commons' FileSystemWriter, minus its fsync per
 * file, plus a move (not a copy) of attachments the scenario workers staged on disk.
 *
 * Why: the stock writer flushes every result and attachment to the device before the next (about 0.4 ms
 * per file here, seven files per scenario), which made the report cost more than the scenario. A results
 * folder is rebuilt by the next run, so it needs files that appear whole (each is still written to a
 * temporary name and renamed), not files that survive a power cut. Attachments reach the reporter as paths
 * in the staging folder ({@link attachmentStagingDir}), so their bytes never travel through vitest's task
 * messages and are never held in memory until the run ends.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FileSystemWriter } from 'allure-js-commons/sdk/reporter';
import type { Category } from 'allure-js-commons/sdk';
import type { TestResult, TestResultContainer, Globals } from 'allure-js-commons';

/** The staging folder of a results folder: a sibling, so that a staged file moves by rename. */
export function attachmentStagingDir(resultsDir: string): string {
  return `${resolve(resultsDir)}.staging`;
}

let temporaryCount = 0;

/** Writes `data` under `path` whole: a temporary name in the same folder, then a rename. */
function publish(path: string, data: string | Uint8Array): void {
  const temporary = join(dirname(path), `.usbfn-hil-${process.pid}-${++temporaryCount}.tmp`);
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

export class AllureResultsWriter extends FileSystemWriter {
  readonly #resultsDir: string;
  readonly #stagingDir: string;

  constructor(resultsDir: string) {
    super({ resultsDir });
    this.#resultsDir = resolve(resultsDir);
    this.#stagingDir = attachmentStagingDir(resultsDir);
    mkdirSync(this.#resultsDir, { recursive: true });
  }

  override writeAttachment(distFileName: string, content: Buffer): void {
    publish(join(this.#resultsDir, distFileName), content);
  }

  override writeAttachmentFromPath(distFileName: string, from: string): void {
    // A staged attachment is this run's own file: move it. Anything else (a user's file) is copied.
    if (dirname(resolve(from)) === this.#stagingDir) renameSync(from, join(this.#resultsDir, distFileName));
    else super.writeAttachmentFromPath(distFileName, from);
  }

  override writeResult(result: TestResult): void {
    publish(join(this.#resultsDir, `${result.uuid}-result.json`), JSON.stringify(result));
  }

  override writeGroup(result: TestResultContainer): void {
    publish(join(this.#resultsDir, `${result.uuid}-container.json`), JSON.stringify(result));
  }

  override writeGlobals(distFileName: string, info: Globals): void {
    publish(join(this.#resultsDir, distFileName), JSON.stringify(info));
  }

  override writeCategoriesDefinitions(categories: Category[]): void {
    publish(join(this.#resultsDir, 'categories.json'), JSON.stringify(categories));
  }
}
