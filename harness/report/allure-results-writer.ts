/**
 * Where the scenario reporter writes Allure results: allure-js-commons' FileSystemWriter, minus its fsync per
 * file, writing in the background, plus a move (not a copy) of attachments the scenario workers staged on disk.
 *
 * Why: the stock writer flushes every result and attachment to the device before the next (about 0.4 ms
 * per file here, seven files per scenario), which made the report cost more than the scenario. A results
 * folder is rebuilt by the next run, so it needs files that appear whole (each is still written to a
 * temporary name and renamed), not files that survive a power cut. Creating a file still costs ~0.3 ms of
 * kernel time on this machine's disk: written synchronously, six per scenario held vitest's main process
 * (which the workers wait on between files) ~2 ms per scenario, so the files are written on libuv's threads,
 * a few at a time, and {@link AllureResultsWriter.flush} waits for them when the run ends. Large attachments
 * reach the reporter as paths in the staging folder ({@link attachmentStagingDir}), so their bytes never
 * travel through vitest's task messages (harness/allure.ts).
 */
import { mkdirSync, renameSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FileSystemWriter } from 'allure-js-commons/sdk/reporter';
import type { Category } from 'allure-js-commons/sdk';
import type { TestResult, TestResultContainer, Globals } from 'allure-js-commons';
import { HarnessError } from '../../core/index.js';

/** The staging folder of a results folder: a sibling, so that a staged file moves by rename. */
export function attachmentStagingDir(resultsDir: string): string {
  return `${resolve(resultsDir)}.staging`;
}

let temporaryCount = 0;

/** Files written at once: enough to keep libuv's four threads busy without holding many results in memory. */
const MAX_IN_FLIGHT = 8;

/** Writes `data` under `path` whole: a temporary name in the same folder, then a rename. */
async function publish(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.usbfn-hil-${process.pid}-${++temporaryCount}.tmp`);
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (e) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw e;
  }
}

export class AllureResultsWriter extends FileSystemWriter {
  readonly #resultsDir: string;
  readonly #stagingDir: string;
  readonly #queue: (readonly [path: string, data: string | Uint8Array])[] = [];
  #inFlight = 0;
  readonly #failures: { path: string; error: unknown }[] = [];
  #drained: (() => void)[] = [];

  constructor(resultsDir: string) {
    super({ resultsDir });
    this.#resultsDir = resolve(resultsDir);
    this.#stagingDir = attachmentStagingDir(resultsDir);
    mkdirSync(this.#resultsDir, { recursive: true });
  }

  /** Files queued or being written. */
  get pending(): number {
    return this.#queue.length + this.#inFlight;
  }

  /**
   * Resolves when every file handed to the writer is on disk.
   * @throws HarnessError REPORT_WRITE_FAILED naming the first file that could not be written (its cause
   * chained) and how many failed; the others were written.
   */
  async flush(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
    const first = this.#failures[0];
    if (first === undefined) return;
    const count = this.#failures.length;
    this.#failures.length = 0;
    throw new HarnessError(
      'REPORT_WRITE_FAILED',
      `[REPORT_WRITE_FAILED] writing Allure results failed for ${count} file(s), first ${first.path}: ${first.error instanceof Error ? first.error.message : String(first.error)}. ` +
        `Free space on that disk or give the results another folder; the run's other results were written.`,
      { resultsDir: this.#resultsDir, failed: count, firstPath: first.path },
      { cause: first.error },
    );
  }

  #enqueue(path: string, data: string | Uint8Array): void {
    this.#queue.push([path, data]);
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#queue.length > 0) {
      const [path, data] = this.#queue.shift()!;
      this.#inFlight++;
      publish(path, data)
        .catch((error: unknown) => void this.#failures.push({ path, error }))
        .finally(() => {
          this.#inFlight--;
          this.#pump();
          if (this.pending === 0) for (const resolve of this.#drained.splice(0)) resolve();
        });
    }
  }

  override writeAttachment(distFileName: string, content: Buffer): void {
    this.#enqueue(join(this.#resultsDir, distFileName), content);
  }

  override writeAttachmentFromPath(distFileName: string, from: string): void {
    // A staged attachment is this run's own file: move it. Anything else (a user's file) is copied.
    if (dirname(resolve(from)) === this.#stagingDir) renameSync(from, join(this.#resultsDir, distFileName));
    else super.writeAttachmentFromPath(distFileName, from);
  }

  override writeResult(result: TestResult): void {
    this.#enqueue(join(this.#resultsDir, `${result.uuid}-result.json`), JSON.stringify(result));
  }

  override writeGroup(result: TestResultContainer): void {
    this.#enqueue(join(this.#resultsDir, `${result.uuid}-container.json`), JSON.stringify(result));
  }

  override writeGlobals(distFileName: string, info: Globals): void {
    this.#enqueue(join(this.#resultsDir, distFileName), JSON.stringify(info));
  }

  override writeCategoriesDefinitions(categories: Category[]): void {
    this.#enqueue(join(this.#resultsDir, 'categories.json'), JSON.stringify(categories));
  }
}
