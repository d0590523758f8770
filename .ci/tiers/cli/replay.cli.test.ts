/**
 * Every printed replay command runs exactly the scenario that failed, with its seed: a temporary scenario
 * whose describe block and title hold regular-expression and shell characters ( ) ? ' fails; the replay line
 * is taken from the run's output and run as printed (through `sh -c`; only `npx usbfn-hil` becomes this
 * checkout's bin, since npx may resolve another copy); exactly that one scenario runs again and fails with
 * the same scenario seed. The same run checks that `--filter` takes ( and ? literally.
 *
 * The scenario fails only when USBFN_HIL_CLI_TIER_FAIL=1, so that it cannot fail another run of this
 * checkout while it exists, and it is removed when the test ends.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { BIN, NOISE, resultFiles, ROOT, runCli, runShell, runSummary } from './cli-process.js';

const DIR = join(ROOT, 'scenarios', 'cli-tier');
const FILE = join(DIR, `replay-${process.pid}.test.ts`);
const DESCRIBE = 'replay check (temporary)';
const TITLE = "loops back 64 bytes (full speed?) isn't it";
const FAIL_ENV = { USBFN_HIL_CLI_TIER_FAIL: '1' };

const SCENARIO = `// Written and removed by .ci/tiers/cli/replay.cli.test.ts: fails only under USBFN_HIL_CLI_TIER_FAIL=1.
import { describe, expect, test } from '../../harness/index.js';

describe(${JSON.stringify(DESCRIBE)}, () => {
  test.override({ world: { speed: 'full' } });
  test(${JSON.stringify(TITLE)}, async ({ agent }) => {
    const result = await agent.loopback(64, { seed: 7 });
    expect(result.ok).toBe(true);
    // A long, multi-line message: the summary shortens it but must keep the replay line.
    const because = Array.from({ length: 12 }, (_, k) => \`detail line \${k + 1} of a long failure\`).join('\\n');
    expect(process.env['USBFN_HIL_CLI_TIER_FAIL'] === '1' ? result.bytesRead + 1 : result.bytesRead, because).toBe(64);
  });
});
`;

afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** `[seed 0x…; run seed 0x…] replay: <command>` of the run's output. */
function replayOf(output: string): { seed: string; runSeed: string; command: string } {
  const all = [...output.matchAll(/\[seed (0x[0-9a-f]{8}); run seed (0x[0-9a-f]{8})\] replay: (.+)$/gm)];
  expect(all, output).toHaveLength(1);
  const [, seed, runSeed, command] = all[0]!;
  return { seed: seed!, runSeed: runSeed!, command: command! };
}

function expectExactlyOneFailed(output: string): void {
  const summary = runSummary();
  expect(summary.selected, output).toBe(1);
  expect(summary.totals).toEqual({ passed: 0, failed: 1, broken: 0, skipped: 0 });
  expect(summary.scenarios.filter((s) => s.selected).map((s) => s.path)).toEqual([`scenarios/cli-tier/replay-${process.pid}.test.ts > ${DESCRIBE} > ${TITLE}`]);
  expect(resultFiles()).toHaveLength(1);
  expect(output).toMatch(/^usbfn-hil: 1 scenario in mode sim/m);
}

test('the replay line of a failure whose name has ( ) ? and a quote runs exactly that scenario with its seed', async () => {
  mkdirSync(DIR, { recursive: true });
  writeFileSync(FILE, SCENARIO);

  // --filter is literal text: ( and ? select the scenario instead of forming a pattern.
  const first = await runCli(['run', '--filter', "(full speed?) isn't"], { env: FAIL_ENV });
  expect(first.code, first.output).toBe(1);
  expect(first.output).not.toMatch(NOISE);
  expectExactlyOneFailed(first.output);
  const original = replayOf(first.output);
  expect(original.command).toMatch(/^USBFN_HIL_SEED=0x[0-9a-f]{8} npx usbfn-hil run --mode sim --scenario '/);
  expect(first.output).toContain('more lines in the report'); // the long message was shortened, its replay line kept

  const line = original.command.replace(/ npx usbfn-hil /, ` node '${BIN}' `);
  expect(line).not.toBe(original.command);
  const again = await runShell(line, { env: FAIL_ENV });
  expect(again.code, again.output).toBe(1);
  expectExactlyOneFailed(again.output);
  const replayed = replayOf(again.output);
  expect(replayed.seed).toBe(original.seed);
  expect(replayed.runSeed).toBe(original.runSeed);
  expect(replayed.command).toBe(original.command);
});
