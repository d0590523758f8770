/**
 * `usbfn-hil trace check <trace>`: replays a recorded device trace (from `usbfn-hil device probe`, or a lab
 * session recorded with trace on) against the simulator and reports every divergence, grouped by the
 * assumption id it confirms or refutes (docs/reference/device-trace.md#trace-check).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../core/index.js';
import { parseCommandArgs, type Command } from './command.js';

const usage = `usage: usbfn-hil trace check <trace.jsonl> [--seed <n>] [--json]
  Replays a device trace against the simulator: the device's calls in the recorded order, the host's
  actions derived from the bus events, the device saw. Reports every divergence (status, bytes returned,
  output bytes, event order, missing and extra events) under the assumption id of
  docs/reference/documented-vs-inferred.md it confirms or refutes.
  --seed <n>   seed of the simulation (default 1)
  --json       print the report as JSON instead of text
Exit status: 0 when the trace and the simulator agree, 1 on any divergence, 2 for bad usage or an invalid trace.`;

/** The command printing through `print` (tests collect the lines). */
export function createTraceCommand(print: (line: string) => void = (line) => console.log(line)): Command {
  return {
  name: 'trace',
  summary: 'trace check <file>: replay a device trace against the simulator, report divergences by assumption',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(this, argv, { seed: { type: 'string' }, json: { type: 'boolean' } }, true);
    const [sub, file, ...rest] = positionals;
    if (sub !== 'check' || file === undefined || rest.length > 0) {
      throw new UsageError('INVALID_ARGUMENT', `trace: use 'usbfn-hil trace check <trace.jsonl>' (got '${positionals.join(' ')}'; see usbfn-hil trace --help)`);
    }
    let seed = 1;
    if (values.seed !== undefined) {
      const { parseSeed } = await import('../seed.js');
      seed = parseSeed(values.seed, '--seed');
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError('INVALID_ARGUMENT', `trace check: cannot read '${file}' (${(err as Error).message}); give the path of a .jsonl device trace`, { file }, { cause: err });
    }
    const { checkTrace, formatTraceCheck } = await import('../trace/index.js');
    const report = await checkTrace(text, { seed });
    if (values.json === true) print(JSON.stringify(report, null, 2));
    else for (const line of formatTraceCheck(report, file)) print(line);
    return report.divergences === 0 ? 0 : 1;
  },
  };
}

export const traceCommand: Command = createTraceCommand();
