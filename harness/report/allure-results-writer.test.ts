import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestResult } from 'allure-js-commons';
import { afterEach, describe, expect, it } from 'vitest';
import { HarnessError } from '../../core/index.js';
import { AllureResultsWriter, attachmentStagingDir } from './allure-results-writer.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function resultsDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'usbfn-writer-'));
  made.push(root);
  return join(root, 'allure-results');
}

const result = (uuid: string): TestResult => ({ uuid, name: `scenario ${uuid}` }) as TestResult;

describe('AllureResultsWriter', () => {
  it('writes results and attachments in the background, whole, and flush waits until all are on disk', async () => {
    const dir = resultsDir();
    const w = new AllureResultsWriter(dir);
    for (let i = 0; i < 50; i++) {
      w.writeResult(result(`r${i}`));
      w.writeAttachment(`a${i}-attachment.json`, Buffer.from(JSON.stringify({ i })));
    }
    expect(w.pending).toBeGreaterThan(0);
    await w.flush();
    expect(w.pending).toBe(0);
    const files = readdirSync(dir);
    expect(files.filter((f) => f.endsWith('-result.json'))).toHaveLength(50);
    expect(files.filter((f) => f.endsWith('-attachment.json'))).toHaveLength(50);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'r7-result.json'), 'utf8'))).toMatchObject({ uuid: 'r7', name: 'scenario r7' });
    expect(JSON.parse(readFileSync(join(dir, 'a49-attachment.json'), 'utf8'))).toEqual({ i: 49 });
  });

  it('moves a staged attachment into the results and copies any other file', async () => {
    const dir = resultsDir();
    const w = new AllureResultsWriter(dir);
    const staging = attachmentStagingDir(dir);
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'capture.pcap'), 'pcap bytes');
    const elsewhere = join(dir, '..', 'user.txt');
    writeFileSync(elsewhere, 'user file');
    w.writeAttachmentFromPath('c-attachment.pcap', join(staging, 'capture.pcap'));
    w.writeAttachmentFromPath('u-attachment.txt', elsewhere);
    await w.flush();
    expect(existsSync(join(staging, 'capture.pcap'))).toBe(false);
    expect(readFileSync(join(dir, 'c-attachment.pcap'), 'utf8')).toBe('pcap bytes');
    expect(existsSync(elsewhere)).toBe(true);
    expect(readFileSync(join(dir, 'u-attachment.txt'), 'utf8')).toBe('user file');
  });

  it('reports files it could not write when flushed, with the first cause, and writes the others', async () => {
    const dir = resultsDir();
    const w = new AllureResultsWriter(dir);
    w.writeResult(result('ok'));
    // A folder where the file should go: the rename onto it fails.
    mkdirSync(join(dir, 'blocked-result.json'));
    w.writeResult(result('blocked'));
    const err = await w.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe('REPORT_WRITE_FAILED');
    expect((err as HarnessError).message).toMatch(/1 file\(s\), first .*blocked-result\.json: .*Free space on that disk or give the results another folder/);
    expect((err as HarnessError).cause).toBeInstanceOf(Error);
    expect(existsSync(join(dir, 'ok-result.json'))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Reported once: a later flush with nothing new succeeds.
    await expect(w.flush()).resolves.toBeUndefined();
  });
});
