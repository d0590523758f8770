/**
 * `usbfn-hil bench check`: is the lab bench usable (docs/lab-setup.md). Exit 0 when it is, 1 when a check
 * failed (one line per failed check), 2 for usage errors (no lab config, no token) like every command.
 *
 *   usbfn-hil bench check [--wait-lease <ms>] [--bytes <n>]
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../../core/index.js';
import { loadLabConfig, readAgentToken, benchStatus, formatBenchCheck, loadBenchInventory, runBenchCheck } from '../lab/index.js';
import type { Command } from './command.js';

export const BENCH_USAGE = `usage:
  usbfn-hil bench list [--json]
      The benches of the inventory (usbfn-hil.benches.json or USBFN_HIL_BENCHES, docs/ci.md#bench-inventory)
      with their live state: free, leased (by whom, until when), unreachable, refused (token, version), or
      no token. Exit 0 when at least one bench is free, 1 otherwise.
  usbfn-hil bench check [--wait-lease <ms>] [--bytes <n>]
      Checks the lab bench of usbfn-hil.lab.json (or USBFN_HIL_LAB_CONFIG): device agent reachable, same
      version, USB function present, lease free, session opens, the device enumerates on this host with the
      configured VID/PID at the bench's speed, and one loopback comes back byte-exact.
      --wait-lease waits that long for a bench another holder has (default 0: report the holder at once).
      Exit 0: usable; 1: a check failed; 2: usage error (lab config, token).`;

function nonNegativeInt(text: string | undefined, flag: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const v = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || v > max) throw new UsageError('INVALID_ARGUMENT', `${flag} '${text}' is not a whole number 0..${max}: use e.g. ${flag} ${fallback || 4096}`);
  return v;
}

/** `usbfn-hil bench <subcommand>`; returns the exit code. @throws UsageError (exit 2 in main) */
export async function commandBench(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(BENCH_USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'list') return benchList(rest);
  if (sub !== 'check') throw new UsageError('INVALID_ARGUMENT', `unknown bench command '${sub}': use 'usbfn-hil bench list' or 'usbfn-hil bench check'`);
  const { values } = parseArgs({ args: rest, options: { 'wait-lease': { type: 'string' }, bytes: { type: 'string' } }, strict: true });
  const leaseWaitMs = nonNegativeInt(values['wait-lease'], '--wait-lease', 0, 86_400_000);
  const loopbackBytes = nonNegativeInt(values.bytes, '--bytes', 4096, 16 * 1024 * 1024);
  if (loopbackBytes === 0) throw new UsageError('INVALID_ARGUMENT', "--bytes '0' loops nothing back: use e.g. --bytes 4096");
  const config = loadLabConfig();
  const token = readAgentToken(config);
  const result = await runBenchCheck({ config, token, leaseWaitMs, loopbackBytes });
  console.log(formatBenchCheck(config, result));
  return result.ok ? 0 : 1;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'check a lab bench (bench check): agent, device, one loopback',
  usage: BENCH_USAGE,
  run: (argv) => commandBench([...argv]),
};

/** `usbfn-hil bench list`: the inventory with live health, checked in parallel. */
async function benchList(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, strict: true });
  const inventory = loadBenchInventory();
  const statuses = await Promise.all(inventory.benches.map((b) => benchStatus(b)));
  if (values.json) {
    console.log(JSON.stringify(statuses.map(({ health: _health, ...s }) => s), null, 2));
  } else {
    const w = Math.max(5, ...statuses.map((s) => s.id.length));
    console.log(`benches of ${inventory.path}:`);
    for (const s of statuses) {
      console.log(`  ${s.id.padEnd(w)}  ${s.state.padEnd(11)}  ${s.url}  [${s.tags.join(', ')}]`);
      console.log(`  ${''.padEnd(w)}  ${s.detail}`);
    }
  }
  return statuses.some((s) => s.state === 'free') ? 0 : 1;
}
