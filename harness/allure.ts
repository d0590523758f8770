/**
 * Allure conventions (docs/architecture.md#tests): labels for epic/feature/story, mode and speed; parameters for sizes;
 * protocol phases as steps; attachments for the USB capture and the device event log.
 *
 * Scenarios call {@link phase} for protocol phases and {@link param} for sizes; the fixtures add the rest
 * (labels, capture, device log) so every scenario gets them without asking.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as allure from 'allure-js-commons';
import { inject } from 'vitest';
import { renderTimelineSvg, type TimelineItem } from './report/index.js';

/** MIME type Wireshark and Allure associate with classic pcap files. */
export const PCAP_CONTENT_TYPE = 'application/vnd.tcpdump.pcap';

/** A protocol phase as an Allure step: `await phase('enumerate', async () => { ... })`. */
export function phase<T>(name: string, body: () => T | PromiseLike<T>): Promise<T> {
  return Promise.resolve(allure.step(name, () => body()));
}

/** A scenario parameter shown in the report (sizes, counts, speeds). */
export async function param(name: string, value: string | number | boolean): Promise<void> {
  await allure.parameter(name, String(value));
}

/** Labels derived from where a scenario lives: scenarios/<epic>/<feature>.test.ts. */
export function labelsFromPath(filePath: string): { epic: string; feature: string } {
  const norm = filePath.replaceAll('\\', '/');
  const m = /scenarios\/([^/]+)\/(.+?)\.test\.ts$/.exec(norm);
  if (m === null) return { epic: 'scenarios', feature: norm.split('/').pop()?.replace(/\.test\.ts$/, '') ?? 'scenario' };
  return { epic: m[1]!, feature: m[2]!.replaceAll('/', ' / ') };
}

export async function labelScenario(args: {
  filePath: string;
  story: string;
  /** Describe blocks and title: tells apart scenarios of the same title at two speeds. */
  displayName: string;
  mode: string;
  speed: string;
  seed: string;
}): Promise<void> {
  const { epic, feature } = labelsFromPath(args.filePath);
  await allure.displayName(args.displayName);
  await allure.epic(epic);
  await allure.feature(feature);
  await allure.story(args.story);
  await allure.label('mode', args.mode);
  await allure.label('speed', args.speed);
  await allure.parameter('mode', args.mode);
  await allure.parameter('seed', args.seed, { excluded: true });
}

/** The folder the scenario reporter moves attachments from, when it runs (harness/report/scenario-allure-reporter.ts). */
function stagingDir(): string | undefined {
  try {
    return inject('allureStagingDir');
  } catch {
    return undefined; // not inside a vitest worker
  }
}

/**
 * Attachments from this size on are staged as files (see {@link attach}); smaller ones travel inline.
 * Measured on generated scenarios (bench/README.md#scaling): a scenario's five small attachments staged as
 * files cost its worker ~1–2.5 ms of kernel time (file creation), inline ~0.1 ms of encoding, while the
 * reporter's process, which writes them, is idle most of the run.
 */
const STAGE_FROM_BYTES = 64 * 1024;

/**
 * One attachment. A small one is an ordinary Allure attachment: base64 in the test's messages, written by
 * the reporter when the scenario ends (which then drops the message). Under the scenario reporter a large one
 * (a long capture) goes to a staged file and only its path travels to the reporter, which moves the file into
 * the results: its bytes are never encoded or sent through vitest's task messages.
 */
function attach(name: string, content: string | Uint8Array, contentType: string, fileExtension: string): Promise<void> {
  const dir = content.length < STAGE_FROM_BYTES ? undefined : stagingDir();
  if (dir === undefined) {
    const body = typeof content === 'string' ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    return Promise.resolve(allure.attachment(name, body, { contentType, fileExtension }));
  }
  const path = join(dir, `${randomUUID()}.${fileExtension}`);
  writeFileSync(path, content);
  return Promise.resolve(allure.attachmentPath(name, path, { contentType, fileExtension }));
}

/** Attaches a usbmon capture (LINKTYPE 220) that Wireshark opens. */
export function attachCapture(name: string, pcap: Uint8Array): Promise<void> {
  return attach(`${name}.pcap`, pcap, PCAP_CONTENT_TYPE, 'pcap');
}

/** Attaches JSON (the device event log, the simulator's unhandled requests, ...). */
export function attachJson(name: string, value: unknown): Promise<void> {
  return attach(`${name}.json`, JSON.stringify(value, null, 2), 'application/json', 'json');
}

/** Attaches a scenario's transfer timeline as an SVG picture the report shows inline. */
export function attachTimeline(name: string, title: string, items: readonly TimelineItem[]): Promise<void> {
  return attach(`${name}.svg`, renderTimelineSvg(items, { title }), 'image/svg+xml', 'svg');
}

/** Attaches records as JSON lines (one object per line): the device trace that `usbfn-hil trace check` reads. */
export function attachJsonLines(name: string, records: readonly unknown[]): Promise<void> {
  return attach(`${name}.jsonl`, `${records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n')}\n`, 'application/x-ndjson', 'jsonl');
}
