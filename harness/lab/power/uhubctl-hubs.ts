/**
 * Which hubs of this host uhubctl can switch: one `uhubctl -f` run (every hub, no action), split into hubs
 * with per-port power switching and the others. For `usbfn-hil doctor` and bench checks.
 */
import { checkCommand } from './check-command.js';
import { CommandError, COMMAND_ERROR, ExecFileCommandRunner, tail, type CommandRunner } from './command-runner.js';
import { PowerControlError } from './power-control-error.js';
import { hubsOf, parseUhubctlOutput, type UhubctlHubStatus } from './uhubctl-output.js';

export type UhubctlListing =
  /** `switchable`: per-port power switching (ppps); `other`: ganged or none (shown by `-f` only). */
  | { readonly status: 'ok'; readonly switchable: readonly UhubctlHubStatus[]; readonly other: readonly UhubctlHubStatus[] }
  | { readonly status: 'not-installed'; readonly detail: string }
  | { readonly status: 'permission'; readonly detail: string }
  | { readonly status: 'failed'; readonly detail: string };

export interface ListUhubctlHubsOptions {
  /** Default `['uhubctl']`. */
  readonly command?: readonly string[] | undefined;
  readonly runner?: CommandRunner | undefined;
  /** Default 10000. */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Lists the hubs uhubctl sees. Never throws for a bench problem (it is the listing's status); rejects
 * only on timeout or abort.
 * @throws TimeoutError; AbortedError.
 */
export async function listUhubctlHubs(options: ListUhubctlHubsOptions = {}): Promise<UhubctlListing> {
  const [file, ...prefix] = checkCommand(options.command ?? ['uhubctl'], 'hotplug.command');
  const runner = options.runner ?? new ExecFileCommandRunner();
  let result;
  try {
    result = await runner.run(file, [...prefix, '-f'], { timeoutMs: options.timeoutMs ?? 10_000, signal: options.signal });
  } catch (err) {
    if (err instanceof CommandError && err.code === COMMAND_ERROR.notFound) return { status: 'not-installed', detail: err.message };
    if (err instanceof CommandError) return { status: 'failed', detail: err.message };
    throw err;
  }
  const text = `${result.stdout}\n${result.stderr}`;
  if (/permission problems/i.test(text)) return { status: 'permission', detail: tail(result.stderr) };
  if (result.exitCode !== 0) {
    if (/No compatible devices detected/i.test(text)) return { status: 'ok', switchable: [], other: [] };
    return { status: 'failed', detail: `uhubctl -f exited with ${result.exitCode === null ? `signal ${result.signal}` : `code ${result.exitCode}`}: ${tail(text)}` };
  }
  let hubs: UhubctlHubStatus[];
  try {
    hubs = hubsOf(parseUhubctlOutput(result.stdout));
  } catch (err) {
    if (err instanceof PowerControlError) return { status: 'failed', detail: err.message };
    throw err;
  }
  const ppps = (h: UhubctlHubStatus): boolean => h.hub.powerSwitching === 'ppps';
  return { status: 'ok', switchable: hubs.filter(ppps), other: hubs.filter((h) => !ppps(h)) };
}
