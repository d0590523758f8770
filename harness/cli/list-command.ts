/**
 * `usbfn-hil list`: every scenario as the `--scenario` path that runs exactly it, optionally filtered.
 * Collects the suite with vitest (no scenario runs).
 */
import { parseCommandArgs, type Command } from './command.js';
import { parseRunMode } from './run-mode.js';
import { listScenarios } from './scenario-listing.js';
import { SCENARIO_PATH_SEPARATOR, scenarioSelection } from '../scenario-filter.js';

export const listCommand: Command = {
  name: 'list',
  summary: 'list the scenarios (the --scenario path of each)',
  usage: `usage: usbfn-hil list [--filter <text> | --grep <regex>] [--mode sim|lab|lab-sim]
  Prints every scenario as '<file> > <describe> > <title>': give one to usbfn-hil run --scenario.
  --filter, --grep   as for usbfn-hil run
  --mode             the world whose scenarios to list, as for usbfn-hil run (default sim; tags decide: sim
                     leaves out lab-only ones, lab sim-only ones, lab-sim also slow and local-host ones).
                     Listing needs no bench: no lab configuration is read and no agent is started`,
  async run(argv) {
    const { values } = parseCommandArgs(this, argv, {
      filter: { type: 'string' },
      grep: { type: 'string' },
      mode: { type: 'string', default: 'sim' },
    });
    const mode = parseRunMode(values.mode);
    const selection = scenarioSelection({ filter: values.filter, grep: values.grep });
    const tests = await listScenarios(mode, selection.namePattern);
    for (const t of tests) console.log([t.file, t.name].join(SCENARIO_PATH_SEPARATOR));
    console.error(`usbfn-hil: ${tests.length} scenario${tests.length === 1 ? '' : 's'}${selection.description === undefined ? '' : ` (${selection.description})`}`);
    return tests.length === 0 && selection.description !== undefined ? 1 : 0;
  },
};
