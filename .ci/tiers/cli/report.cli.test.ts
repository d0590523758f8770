/**
 * The report as the README's flow makes it: `run --report`, then `report --serve` to view it (one history
 * entry per run, however often it is viewed), the server's answers to bad requests and a busy port, and the
 * report after `npm test` (scenarios only, this run's only, the two speeds of a title told apart).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { childEnv, historyEntries, lines, NOISE, REPORT_SITE, resultFiles, RESULTS, ROOT, runCli, runSummary, startCli } from './cli-process.js';

const execFileAsync = promisify(execFile);

/** GET with the path sent as is (fetch would normalise it). */
function get(url: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

const SERVING = /serving the report at (http:\/\/127\.0\.0\.1:(\d+)\/)/;

describe('run --report, then report --serve', () => {
  test('records the run once in the history (with its single file), serves it, answers GET /% with 4xx and keeps serving, refuses a busy port in one line', async () => {
    const history = historyEntries();
    // The single file is another rendering of the same run: it adds no entry of its own.
    const run = await runCli(['run', '--report', '--single-file', '--scenario', 'scenarios/bulk/loopback.test.ts > echoes 512 bytes byte-exact']);
    expect(run.code, run.output).toBe(0);
    expect(historyEntries()).toBe(history + 1);

    const server = await startCli(['report', '--serve'], SERVING);
    try {
      const url = server.match[1]!;
      expect(server.output()).toMatch(/the report is up to date with the results/);
      expect(historyEntries()).toBe(history + 1);
      expect(await get(url, '/')).toBe(200);
      const bad = await get(url, '/%');
      expect(bad).toBeGreaterThanOrEqual(400);
      expect(bad).toBeLessThan(500);
      expect(await get(url, '/%E0%A4%A')).toBeLessThan(500);
      expect(await get(url, '/index.html')).toBe(200);

      // The same port again: one line, exit 2, before anything is rebuilt or run.
      const port = server.match[2]!;
      for (const args of [['report', '--serve', '--port', port], ['run', '--serve', '--port', port]]) {
        const busy = await runCli(args);
        expect(busy.code, busy.output).toBe(2);
        expect(busy.output).not.toMatch(NOISE);
        expect(lines(busy.output), busy.output).toEqual([expect.stringMatching(new RegExp(`^usbfn-hil: \\[PORT_IN_USE\\] port ${port} on 127\\.0\\.0\\.1 is already in use`))]);
      }
      expect(await get(url, '/')).toBe(200);
    } finally {
      const stopped = await server.stop();
      expect(stopped.code, stopped.output).toBe(0);
    }
    // Viewing it again, or building it again, records nothing new.
    const again = await runCli(['report']);
    expect(again.code, again.output).toBe(0);
    expect(historyEntries()).toBe(history + 1);
  });
});

describe('npm test, then usbfn-hil report', () => {
  test('the report holds only the scenarios of this run, with the two speeds of a title told apart', async () => {
    // Results of an earlier run are there; npm test must not add to them.
    expect(resultFiles().length).toBeGreaterThan(0);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const test = await execFileAsync(npm, ['test', '--', 'harness/cli/shard.test.ts', 'harness/scenario-filter.test.ts', 'scenarios/bulk/loopback.test.ts'], {
      cwd: ROOT,
      env: childEnv(),
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(test.stdout).toMatch(/Test Files\s+3 passed/);
    const scenarios = runSummary().selected;
    expect(scenarios).toBeGreaterThan(10);

    const report = await runCli(['report']);
    expect(report.code, report.output).toBe(0);
    expect(resultFiles()).toHaveLength(scenarios);
    const reported = readdirSync(join(REPORT_SITE, 'data', 'test-results')).map(
      (f) => JSON.parse(readFileSync(join(REPORT_SITE, 'data', 'test-results', f), 'utf8')) as { name: string; fullName: string },
    );
    expect(reported).toHaveLength(scenarios);
    for (const r of reported) expect(r.fullName).toMatch(/scenarios\/bulk\/loopback\.test\.ts#/);
    const names = reported.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('high speed (wMaxPacketSize 512) › echoes a zero-length transfer as a zero-length packet');
    expect(names).toContain('full speed (wMaxPacketSize 64) › echoes a zero-length transfer as a zero-length packet');
    // The results folder holds this run only.
    for (const f of resultFiles()) expect(readFileSync(join(RESULTS, f), 'utf8')).toMatch(/scenarios\/bulk\/loopback\.test\.ts/);
  });
});
