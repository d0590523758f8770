/**
 * Command lines for `uhubctl` (https://github.com/mvp/uhubctl): `uhubctl -l <hub location> -p <port>
 * -a off|on|cycle [-d <delay s>] [-r <repeat>] [-e]`, as argument arrays (never a shell string).
 */
import { UsageError } from '../../../core/index.js';

/** uhubctl's MAX_HUB_PORTS: the highest port number it can address. */
export const UHUBCTL_MAX_PORT = 14;

/** What uhubctl should do with the port (`-a`). */
export type UhubctlAction = 'off' | 'on' | 'cycle';

/** uhubctl's hub location: `<bus>` (a root hub) or `<bus>-<port>[.<port>]...` (up to 7 hubs deep). */
const LOCATION = /^\d{1,3}(?:-\d{1,3}(?:\.\d{1,3}){0,6})?$/;

/**
 * Checks a hub location and port before they reach a command line.
 * @throws UsageError INVALID_CONFIG naming the value and the fix.
 */
export function checkHubPort(hub: string, port: number): void {
  if (typeof hub !== 'string' || !LOCATION.test(hub)) {
    throw new UsageError(
      'INVALID_CONFIG',
      `hotplug.hub ${JSON.stringify(hub)} is not a uhubctl hub location: give "<bus>-<port>[.<port>...]" as uhubctl prints it, e.g. "1-1" or "3-1.4" (run \`uhubctl\` to list hubs)`,
      { hub },
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > UHUBCTL_MAX_PORT) {
    throw new UsageError('INVALID_CONFIG', `hotplug.port ${JSON.stringify(port)} is not a hub port: give an integer 1..${UHUBCTL_MAX_PORT} (the "Port N" uhubctl prints)`, { port });
  }
}

export interface UhubctlActionArgs {
  readonly hub: string;
  readonly port: number;
  readonly action: UhubctlAction;
  /** `-d`: how long a cycle keeps the port off, in ms (uhubctl takes seconds; default 2 s). */
  readonly cycleDelayMs?: number | undefined;
  /** `-r`: power-off requests to send (some kernels turn a port back on; uhubctl's README suggests 10..1000). */
  readonly repeat?: number | undefined;
  /** `-e`: only this location, without the USB 3 companion hub of the same physical hub. */
  readonly exact?: boolean | undefined;
}

/**
 * The arguments of one uhubctl action.
 * @throws UsageError INVALID_CONFIG for a bad location, port, delay or repeat count.
 * @example uhubctlActionArgs({ hub: '1-1', port: 2, action: 'cycle', cycleDelayMs: 1500 })
 *   // ['-l', '1-1', '-p', '2', '-a', 'cycle', '-d', '1.5']
 */
export function uhubctlActionArgs(a: UhubctlActionArgs): string[] {
  checkHubPort(a.hub, a.port);
  const args = ['-l', a.hub, '-p', String(a.port), '-a', a.action];
  if (a.action === 'cycle' && a.cycleDelayMs !== undefined) {
    if (!Number.isFinite(a.cycleDelayMs) || a.cycleDelayMs < 0 || a.cycleDelayMs > 600_000) {
      throw new UsageError('INVALID_CONFIG', `hotplug.cycleDelayMs ${a.cycleDelayMs} is out of range: give 0..600000 ms`, { cycleDelayMs: a.cycleDelayMs });
    }
    args.push('-d', String(a.cycleDelayMs / 1000));
  }
  if (a.repeat !== undefined && a.action !== 'on') {
    if (!Number.isInteger(a.repeat) || a.repeat < 1 || a.repeat > 1000) {
      throw new UsageError('INVALID_CONFIG', `hotplug.repeat ${a.repeat} is out of range: give an integer 1..1000`, { repeat: a.repeat });
    }
    args.push('-r', String(a.repeat));
  }
  if (a.exact === true) args.push('-e');
  return args;
}

/** Arguments of a status query of one port (no action). */
export function uhubctlStatusArgs(hub: string, port: number, exact = false): string[] {
  checkHubPort(hub, port);
  return ['-l', hub, '-p', String(port), ...(exact ? ['-e'] : [])];
}
