/**
 * `usbfn-hil agent serve`: starts the device agent on the Windows device (docs/agent-protocol.md,
 * docs/lab-setup.md). The backend is chosen from a registry of module URLs: device-side's own (`win32`)
 * plus what the harness registers (the `sim` backend of the lab-sim world is added here by the harness).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { UsageError } from '../../core/index.js';
import {
  builtinAgentBackends,
  DEFAULT_DRIVER_SETTINGS,
  loadAgentServer,
  readDriverSettingsFile,
  siblingModule,
  type AgentBackendName,
  type AgentBackendRegistry,
  type DriverSettingsFile,
  type UsbFnDriverSettings,
} from '../../device-side/index.js';
import type { Command } from './command.js';

const USAGE = `usage:
  usbfn-hil agent serve [options]
      Serves the device agent (protocol v1, docs/agent-protocol.md) until Ctrl-C / SIGTERM.
      --backend <name>        where the port comes from: win32 (default on Windows: GenericUSBFn.sys), or sim (a simulated
                              device per session, for CI and development: docs/usbip.md)
      --usbip <host:port>     sim backend: export each session's simulated device over USB/IP there (e.g. 127.0.0.1:3240)
      --listen <host:port>    default 127.0.0.1:7311; anything else is reachable from the network (docs/lab-setup.md: firewall)
      --token-file <path>     the token, in a file only the agent's account can read (else USBFN_HIL_AGENT_TOKEN)
      --function <name>       a test function this bench offers: loopback, sourceSink (repeatable; default both)
      --bench-id <id>         the bench's name in health and reports (default: the host name)
      --bench-tag <tag>       a capability of the bench, e.g. speed-high, hub-uhubctl (repeatable)
      --driver-settings <file>
                              the driver settings every session runs with (docs/win32-backend.md#driver-settings):
                              the result file of 'usbfn-hil device probe' (its recommendedSettings are taken) or a
                              JSON object such as {"statusHandshake":"out"}; what it leaves out runs at the default
      --worker <mode>         process (default: the service runs in a supervised child process) or in-process
                              (no crash isolation: for Windows node under Wine, where child-process IPC is unavailable)
      --allow-pnp             real PnP faults through pnputil on the function's devnode (needs an elevated agent)
      --allow-self-test       the crashWorker / hangWorker faults (supervision self-tests; never on a shared bench)
      --help                  this text`;

/** The backends the CLI knows: device-side's, plus the harness's own (the lab-sim world registers `sim` here). */
export function agentBackendRegistry(): AgentBackendRegistry {
  return { ...builtinAgentBackends(), sim: siblingModule(import.meta.url, '../lab-sim/sim-agent-backend') };
}

const BACKEND_NAMES: readonly AgentBackendName[] = ['win32', 'sim', 'fake'];
const FUNCTIONS = ['loopback', 'sourceSink'] as const;

/** The package's version (package.json above this file, in the sources or in dist/). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'usbfn-hil' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not there: try one level up (dist/harness/cli → the package root).
    }
  }
  return '0.0.0';
}

/** `statusHandshake out (from the file), busEventBytes tolerant (default), …` and where they came from. */
function describeDriverSettings(settings: UsbFnDriverSettings, file: DriverSettingsFile | undefined): string {
  const given = new Set(Object.keys(file?.given ?? {}));
  const each = (Object.keys(DEFAULT_DRIVER_SETTINGS) as (keyof UsbFnDriverSettings)[]).map((k) => `${k} ${String(settings[k])}${given.has(k) ? '' : ' (default)'}`);
  const from = file === undefined ? 'no --driver-settings' : `${file.kind === 'probe-result' ? "the probe result's recommendedSettings in" : ''} ${file.path}`.trim();
  return `${each.join(', ')} (${from})`;
}

/** Options of {@link commandAgent} for embedding (tests, the lab-sim launcher). */
export interface AgentCommandOptions {
  readonly backends?: AgentBackendRegistry;
  /** Stops the agent (instead of SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
  /** Told the URL once the agent listens. */
  readonly onListening?: (url: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * `usbfn-hil agent <subcommand>`; returns the exit code.
 * @throws UsageError for bad options (main prints it and exits 2).
 */
export async function commandAgent(argv: string[], options: AgentCommandOptions = {}): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'serve') throw new UsageError('INVALID_ARGUMENT', `'agent ${sub}' is not a command: use 'usbfn-hil agent serve' (--help lists its options)`);
  const { values } = parseArgs({
    args: rest,
    options: {
      backend: { type: 'string' },
      listen: { type: 'string' },
      'token-file': { type: 'string' },
      function: { type: 'string', multiple: true },
      'bench-id': { type: 'string' },
      'bench-tag': { type: 'string', multiple: true },
      worker: { type: 'string', default: 'process' },
      'allow-pnp': { type: 'boolean', default: false },
      'allow-self-test': { type: 'boolean', default: false },
      usbip: { type: 'string' },
      'driver-settings': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const registry = options.backends ?? agentBackendRegistry();
  const names = Object.keys(registry);
  const backend = values.backend ?? (process.platform === 'win32' ? 'win32' : undefined);
  if (backend === undefined) {
    throw new UsageError('INVALID_ARGUMENT', `--backend is needed off Windows: one of ${names.join(', ')} (win32 runs on the device itself)`);
  }
  const module = registry[backend];
  if (module === undefined || !(BACKEND_NAMES as readonly string[]).includes(backend)) {
    throw new UsageError('INVALID_ARGUMENT', `--backend '${backend}' is not registered: use one of ${names.join(', ')}`);
  }
  if (values.usbip !== undefined && backend !== 'sim') throw new UsageError('INVALID_ARGUMENT', '--usbip exports the simulated device: it needs --backend sim');
  const worker = values.worker;
  if (worker !== 'process' && worker !== 'in-process') {
    throw new UsageError('INVALID_ARGUMENT', `--worker '${worker}': use process (supervised child process) or in-process (no crash isolation, for Wine)`);
  }
  const functions = (values.function ?? [...FUNCTIONS]).flatMap((f) => f.split(','));
  for (const f of functions) {
    if (!(FUNCTIONS as readonly string[]).includes(f)) throw new UsageError('INVALID_ARGUMENT', `--function '${f}': use ${FUNCTIONS.join(' or ')}`);
  }

  // Read before anything starts: a bad file stops here, in one line.
  const driverSettings = values['driver-settings'] === undefined ? undefined : readDriverSettingsFile(values['driver-settings']);

  const server = await loadAgentServer();
  const listen = values.listen === undefined ? undefined : server.parseListenAddress(values.listen);
  const token = server.loadAgentToken({ tokenFile: values['token-file'], env: options.env ?? process.env });
  const started = await server.startAgentServer({
    token,
    listen,
    backend: { name: backend as AgentBackendName, module, settings: values.usbip === undefined ? {} : { usbip: values.usbip } },
    worker: { mode: worker },
    functions: functions as (typeof FUNCTIONS)[number][],
    bench: { id: values['bench-id'] ?? hostname(), tags: values['bench-tag'] ?? [] },
    allowPnp: values['allow-pnp'],
    allowSelfTest: values['allow-self-test'],
    agentVersion: packageVersion(),
    driverSettings: driverSettings?.settings,
  });
  const health = await started.agent.health(undefined);
  console.error(
    `usbfn-hil agent: listening on ${started.url} (backend ${health.backend}, worker ${health.worker.mode} ${health.worker.state}` +
      `${health.worker.lastExit ? `: ${health.worker.lastExit}` : ''}; interface ${health.usbfn.present ? 'present' : 'absent'})`,
  );
  console.error(`usbfn-hil agent: driver settings ${describeDriverSettings(health.driverSettings ?? DEFAULT_DRIVER_SETTINGS, driverSettings)}`);
  if (driverSettings?.probeComplete === false) {
    console.error('usbfn-hil agent: the probe result is from a probe that did not finish: what it could not settle runs at the default (run usbfn-hil device probe again)');
  }
  if (!server.isLoopback(started.address.host)) {
    console.error(`usbfn-hil agent: ${started.address.host} is reachable from the network: allow only the host PC through the firewall (docs/lab-setup.md)`);
  }
  options.onListening?.(started.url);
  const signals = ['SIGINT', 'SIGTERM', 'SIGBREAK'] as const;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      for (const sig of signals) process.off(sig, stop);
      resolve();
    };
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    for (const sig of signals) process.once(sig, stop);
  });
  await started.close();
  return 0;
}

export const agentCommand: Command = {
  name: 'agent',
  summary: 'serve the device agent on the Windows device (agent serve)',
  usage: USAGE,
  run: (argv) => commandAgent([...argv]),
};
