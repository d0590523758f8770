/**
 * `usbfn-hil list`: every scenario as the `--scenario` path that runs exactly it, optionally filtered.
 * Collects the suite with vitest (no scenario runs).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { UsageError } from '../../core/index.js';
import { runChild } from './child-process.js';
import { parseCommandArgs, type Command } from './command.js';
import { ROOT, toolCommand } from './paths.js';
import { SCENARIO_PATH_SEPARATOR, scenarioSelection } from '../scenario-filter.js';

export const listCommand: Command = {
  name: 'list',
  summary: 'list the scenarios (the --scenario path of each)',
  usage: `usage: usbfn-hil list [--filter <text> | --grep <regex>] [--mode sim|lab]
  Prints every scenario as '<file> > <describe> > <title>': give one to usbfn-hil run --scenario.
  --filter, --grep   as for usbfn-hil run
  --mode             the world whose scenarios to list (tags decide: lab leaves out sim-only ones)`,
  async run(argv) {
    const { values } = parseCommandArgs(this, argv, {
      filter: { type: 'string' },
      grep: { type: 'string' },
      mode: { type: 'string', default: 'sim' },
    });
    if (values.mode !== 'sim' && values.mode !== 'lab') throw new UsageError('INVALID_ARGUMENT', `--mode '${values.mode}' is not a mode: use sim or lab`);
    const selection = scenarioSelection({ filter: values.filter, grep: values.grep });
    const dir = mkdtempSync(join(tmpdir(), 'usbfn-hil-list-'));
    try {
      const out = join(dir, 'list.json');
      const vitest = toolCommand('vitest');
      const args = [...vitest.args, 'list', '--project', values.mode, '--tags-filter', values.mode === 'sim' ? '!lab-only' : '!sim-only', `--json=${out}`];
      if (selection.namePattern !== undefined) args.push('--testNamePattern', selection.namePattern);
      const code = await runChild(vitest.cmd, args, { ...process.env, USBFN_HIL_MODE: values.mode, USBFN_HIL_LIST: '1' });
      if (code !== 0) return code;
      const tests = JSON.parse(readFileSync(out, 'utf8')) as { name: string; file: string }[];
      for (const t of tests) console.log([relative(ROOT, t.file).replaceAll('\\', '/'), t.name].join(SCENARIO_PATH_SEPARATOR));
      console.error(`usbfn-hil: ${tests.length} scenario${tests.length === 1 ? '' : 's'}${selection.description === undefined ? '' : ` (${selection.description})`}`);
      return tests.length === 0 && selection.description !== undefined ? 1 : 0;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
