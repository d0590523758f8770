/**
 * What a user meets first: `usbfn-hil --help`, each command's `--help`, and a mistyped command or option.
 * Help exits 0 with the usage on stdout; a mistake exits 2 with one line on stderr that names it, never a stack.
 */
import { describe, expect, test } from 'vitest';
import { lines, NOISE, runCli } from './cli-process.js';

const COMMANDS = ['run', 'report', 'list', 'doctor', 'bench', 'agent', 'usbip', 'probe', 'device', 'trace'] as const;

/** Commands whose work is a subcommand: `--help` after it must answer too. */
const SUBCOMMANDS: readonly (readonly string[])[] = [['agent', 'serve'], ['bench', 'list'], ['bench', 'check'], ['usbip', 'serve'], ['device', 'probe'], ['trace', 'check']];

/** An unknown option in the place a user would put it (after the subcommand, where there is one). */
const UNKNOWN_OPTION: readonly (readonly string[])[] = [
  ['run', '--frob'],
  ['report', '--frob'],
  ['list', '--frob'],
  ['doctor', '--frob'],
  ['bench', 'list', '--frob'],
  ['bench', 'check', '--frob'],
  ['agent', 'serve', '--frob'],
  ['usbip', 'serve', '--frob'],
  ['probe', '--frob'],
  ['device', 'probe', '--frob'],
  ['trace', 'check', 'x.jsonl', '--frob'],
];

describe('usbfn-hil --help', () => {
  test('lists every command and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^usage: usbfn-hil <command>/);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  test.each(COMMANDS)('%s --help prints its own usage and exits 0', async (name) => {
    const r = await runCli([name, '--help']);
    expect(r.code, r.output).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^usage:/);
    expect(r.stdout).toContain(`usbfn-hil ${name}`);
    // Its own, not the global list.
    expect(r.stdout).not.toMatch(/^usage: usbfn-hil <command>/);
  });

  test.each(SUBCOMMANDS)('%s %s --help prints the usage and exits 0', async (name, sub) => {
    const r = await runCli([name, sub, '--help']);
    expect(r.code, r.output).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`usbfn-hil ${name} ${sub}`);
  });
});

describe('a mistake is one line and exit 2', () => {
  test('an unknown command', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^usbfn-hil: unknown command 'frobnicate': use one of run, report, /)]);
  });

  test.each(UNKNOWN_OPTION)('%s %s …: an unknown option', async (...args) => {
    const r = await runCli(args);
    expect(r.code, r.output).toBe(2);
    expect(r.output).not.toMatch(NOISE);
    expect(lines(r.stderr), r.output).toEqual([expect.stringMatching(/^usbfn-hil: \[INVALID_ARGUMENT\] .*unknown option '--frob'.* --help/)]);
  });

  test('a missing option value', async () => {
    const r = await runCli(['run', '--seed']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/--seed.*argument missing/)]);
  });
});

describe('the start of the CLI itself', () => {
  test('--help from the fresh build answers the same as from the sources; its wall time is printed (judged by bench cliStart)', async () => {
    await runCli(['--help']); // the file cache warm, as for a user's second command
    const times: number[] = [];
    let built = '';
    for (let k = 0; k < 5; k++) {
      const r = await runCli(['--help']);
      expect(r.code).toBe(0);
      built = r.stdout;
      times.push(r.wallMs);
    }
    const fromSource = await runCli(['--help'], { env: { USBFN_HIL_FROM_SOURCE: '1' } });
    expect(fromSource.code).toBe(0);
    expect(fromSource.stdout).toBe(built);
    times.sort((a, b) => a - b);
    console.log(
      `usbfn-hil --help: median ${times[2]!.toFixed(0)} ms from the fresh build (runs ${times.map((t) => t.toFixed(0)).join(', ')} ms), ` +
        `${fromSource.wallMs.toFixed(0)} ms from the sources through tsx (target for the build: < 1000 ms, judged by npm run bench -- --only cliStart)`,
    );
  });
});
