/**
 * Everything that can be wrong before the first scenario runs (a selection, the lab configuration, a report
 * option) stops the command with one clear line and exit 2, and leaves the previous results and report as
 * they were. `--scenario` runs exactly the one scenario it names.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { historyEntries, lines, NOISE, REPORT_SITE, RESULTS, resultFiles, ROOT, runCli, runSummary, SINGLE_FILE, snapshot } from './cli-process.js';

/** One of the two scenarios with this title (high and full speed). */
const FULL_SPEED_ZLP = 'scenarios/bulk/loopback.test.ts > full speed (wMaxPacketSize 64) > echoes a zero-length transfer as a zero-length packet';

let tmp: string;
let before: Record<string, string>;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'usbfn-hil-cli-tier-'));
  // Results and a report of a real run, for the checks below to leave untouched.
  const r = await runCli(['run', '--report', '--single-file', '--scenario', FULL_SPEED_ZLP]);
  expect(r.code, r.output).toBe(0);
  before = snapshot(RESULTS);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The command stopped with exactly one line on stderr (matching `what`), exit 2, no stack, results untouched. */
function expectOneLineStop(r: Awaited<ReturnType<typeof runCli>>, what: RegExp): void {
  expect(r.code, r.output).toBe(2);
  expect(r.output).not.toMatch(NOISE);
  expect(lines(r.stderr), r.output).toEqual([expect.stringMatching(what)]);
  expect(lines(r.stdout), r.output).toEqual([]);
  expect(snapshot(RESULTS)).toEqual(before);
}

describe('scenario selection', () => {
  test('--scenario runs exactly the scenario it names, not its namesake at the other speed', () => {
    const summary = runSummary();
    const ran = summary.scenarios.filter((s) => s.selected);
    expect(ran.map((s) => s.path)).toEqual([FULL_SPEED_ZLP]);
    expect(summary.totals).toEqual({ passed: 1, failed: 0, broken: 0, skipped: 0 });
    expect(resultFiles()).toHaveLength(1);
    // The namesake exists: the selection had something to tell apart.
    expect(summary.scenarios.filter((s) => s.path.endsWith('> echoes a zero-length transfer as a zero-length packet') && s.path.startsWith('scenarios/bulk/loopback'))).toHaveLength(2);
  });

  test("--grep '(' is one line and exit 2", async () => {
    expectOneLineStop(await runCli(['run', '--grep', '(']), /^usbfn-hil: \[INVALID_ARGUMENT\] --grep '\(' is not a regular expression .*use --filter for literal text$/);
  });

  test("--filter 'echoes 4 KiB' (the README's example on the stock suite): exit 2, no scenario matched, the closest names", async () => {
    const r = await runCli(['run', '--filter', 'echoes 4 KiB']);
    expect(r.code, r.output).toBe(2);
    expect(r.output).not.toMatch(NOISE);
    expect(r.stderr).toMatch(/^usbfn-hil: \[NO_MATCH\] no scenario matched \(name contains 'echoes 4 KiB'\)\. Closest scenarios:$/m);
    const closest = lines(r.stderr).filter((l) => l.startsWith('  scenarios/'));
    expect(closest.length).toBeGreaterThanOrEqual(3);
    // Each is a real scenario path, the one --scenario takes, and the nearest are the byte-count loopbacks.
    const known = new Set(runSummary().scenarios.map((s) => s.path));
    for (const c of closest) expect(known).toContain(c.trim());
    expect(closest.some((c) => /echoes a 4096-byte transfer/.test(c))).toBe(true);
    expect(snapshot(RESULTS)).toEqual(before);
  });
});

describe('run --mode lab: the lab configuration is checked before the first scenario', () => {
  const VALID = {
    bench: { id: 'lab-01', speed: 'high' },
    device: { vendorId: '0x1209', productId: '0x0001' },
    function: { interfaceNumber: 0, bulkOut: '0x01', bulkIn: '0x81' },
    agent: { url: 'http://127.0.0.1:9' },
  };
  const BOM = '\uFEFF';

  function config(name: string, text: string): NodeJS.ProcessEnv {
    const file = join(tmp, name);
    writeFileSync(file, text);
    return { USBFN_HIL_LAB_CONFIG: file };
  }

  test.skipIf(existsSync(join(ROOT, 'usbfn-hil.lab.json')))('without a configuration (none in the checkout)', async () => {
    expectOneLineStop(await runCli(['run', '--mode', 'lab']), /^usbfn-hil: \[INVALID_CONFIG\] lab mode needs a lab configuration, but .*usbfn-hil\.lab\.json cannot be read/);
  });

  test('with USBFN_HIL_LAB_CONFIG naming a missing file', async () => {
    expectOneLineStop(
      await runCli(['run', '--mode', 'lab'], { env: { USBFN_HIL_LAB_CONFIG: join(tmp, 'nowhere.json') } }),
      /^usbfn-hil: \[INVALID_CONFIG\] lab mode needs a lab configuration, but .*nowhere\.json cannot be read/,
    );
  });

  test('bad JSON', async () => {
    expectOneLineStop(await runCli(['run', '--mode', 'lab'], { env: config('bad.json', '{ "bench": ') }), /^usbfn-hil: \[INVALID_CONFIG\] .*bad\.json is not valid JSON/);
  });

  test('an unknown key (serialNumbr)', async () => {
    const text = JSON.stringify({ ...VALID, device: { ...VALID.device, serialNumbr: 'LAB-01' } });
    expectOneLineStop(await runCli(['run', '--mode', 'lab'], { env: config('typo.json', text) }), /device\.serialNumbr is not a known field \(did you mean serialNumber\?\)/);
  });

  test('endpoint 0 as a bulk endpoint', async () => {
    const text = JSON.stringify({ ...VALID, function: { ...VALID.function, bulkOut: 0 } });
    expectOneLineStop(await runCli(['run', '--mode', 'lab'], { env: config('ep0.json', text) }), /^usbfn-hil: \[INVALID_CONFIG\] .*function\.bulkOut/);
  });

  test('a UTF-8 byte order mark is accepted: a valid file gets as far as the token, a typo is still named', async () => {
    const valid = await runCli(['run', '--mode', 'lab'], { env: config('bom.json', BOM + JSON.stringify(VALID, null, 2)) });
    expectOneLineStop(valid, /^usbfn-hil: \[INVALID_CONFIG\] the device agent's token is not set: export USBFN_HIL_AGENT_TOKEN=/);
    const typo = await runCli(['run', '--mode', 'lab'], { env: config('bom-typo.json', BOM + JSON.stringify({ ...VALID, device: { ...VALID.device, serialNumbr: 'x' } })) });
    expectOneLineStop(typo, /device\.serialNumbr is not a known field/);
    expect(typo.stderr).not.toMatch(/not valid JSON/);
  });
});

describe('report options are checked before the report is touched', () => {
  function reportState(): unknown {
    return { site: snapshot(REPORT_SITE), single: existsSync(SINGLE_FILE) ? statSync(SINGLE_FILE).mtimeMs : undefined, history: historyEntries() };
  }

  test.each([
    [['report', '--port', 'abc'], /--port 'abc' is not a TCP port/],
    [['report', '--port', '80'], /--port is for --serve/],
    [['report', '--serve', '--port', 'abc'], /--port 'abc' is not a TCP port/],
    [['report', '--serve', '--port', '0x50'], /--port '0x50' is not a TCP port/],
  ] as const)('%j', async (args, what) => {
    const state = reportState();
    expect(existsSync(join(REPORT_SITE, 'index.html'))).toBe(true);
    expectOneLineStop(await runCli(args), what);
    expect(reportState()).toEqual(state);
  });
});
