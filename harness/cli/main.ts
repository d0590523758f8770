/**
 * The `usbfn-hil` command line: a registry of commands, each in its own file and loaded only when used,
 * so that `usbfn-hil --help` and usage errors answer at once.
 *
 * Exit codes: 0 success, 1 the work failed (a scenario, a check), 2 bad usage or a precondition that stops
 * a run before it starts (one line that says what is wrong and how to fix it).
 */
import { HarnessError } from '../../core/index.js';
import { HelpRequested, parseArgsUsageError, type Command } from './command.js';

/** Command name → loader of its module (lazy, for a fast start). */
const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<Command> }>> = {
  run: { summary: 'run the scenario suite (sim by default) and summarise it', load: async () => (await import('./run-command.js')).runCommand },
  report: { summary: 'build (and serve) the HTML report of the last run', load: async () => (await import('./report-command.js')).reportCommand },
  list: { summary: 'list the scenarios (the --scenario path of each)', load: async () => (await import('./list-command.js')).listCommand },
  agent: { summary: 'serve the device agent on the Windows device (agent serve)', load: async () => (await import('./agent-command.js')).agentCommand },
  bench: { summary: 'check a lab bench: agent, device, one verified loopback', load: async () => (await import('./bench-command.js')).benchCommand },
  usbip: { summary: 'export the simulated test function over USB/IP (usbip serve)', load: async () => (await import('./usbip-command.js')).usbipCommand },
  doctor: { summary: 'check this host PC: USB access, the function, what is missing', load: async () => (await import('./doctor-command.js')).doctorCommand },
  probe: { summary: 'on the host PC: first-light probe of the function (with `usbfn-hil device probe` on the device)', load: async () => (await import('./probe-command.js')).probeCommand },
  trace: { summary: 'trace check <file>: replay a device trace against the simulator, report divergences by assumption', load: async () => (await import('./trace-command.js')).traceCommand },
  device: { summary: 'on the Windows device: device probe (first light, with the host running `usbfn-hil probe`)', load: async () => (await import('./device-command.js')).deviceCommand },
};

function globalUsage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'usage: usbfn-hil <command> [options]   (usbfn-hil <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(w)}  ${c.summary}`),
  ].join('\n');
}

/** Whether `--help`/`-h` is among the options (before a `--`, after which everything is a positional). */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** Entry point; returns the process exit code. Usage errors print one line, never a stack. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    console.error(globalUsage());
    return 2;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    console.log(globalUsage());
    return 0;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    console.error(`usbfn-hil: unknown command '${name}': use one of ${Object.keys(COMMANDS).join(', ')} (usbfn-hil --help says what each does)`);
    return 2;
  }
  const command = await entry.load();
  // Every command and subcommand answers --help with its usage, whatever else is on the line.
  if (asksForHelp(rest)) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(err.usage);
      return 0;
    }
    const usage = err instanceof HarnessError ? err : parseArgsUsageError(name, err);
    if (usage !== undefined) {
      console.error(`usbfn-hil: ${usage.message}`);
      return 2;
    }
    throw err;
  }
}
