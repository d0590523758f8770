/**
 * `usbfn-hil list`: every scenario as the `--scenario` path that runs exactly it, optionally filtered.
 * Collects the suite with vitest (no scenario runs).
 */
import { UsageError } from '../../core/index.js';
import { parseCommandArgs, type Command } from './command.js';
import { listScenarios } from './scenario-listing.js';
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
    const tests = await listScenarios(values.mode, selection.namePattern);
    for (const t of tests) console.log([t.file, t.name].join(SCENARIO_PATH_SEPARATOR));
    console.error(`usbfn-hil: ${tests.length} scenario${tests.length === 1 ? '' : 's'}${selection.description === undefined ? '' : ` (${selection.description})`}`);
    return tests.length === 0 && selection.description !== undefined ? 1 : 0;
  },
};
