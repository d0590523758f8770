/**
 * The UsbHost contract suite (host-side/usb-host.contract.ts) on NodeUsbHost over real libusb, as part of
 * the umockdev tier (issue 5, "Tests", first bullet):
 * 1. sim-usb-host.recording.test.ts runs the contract on SimUsbHost and writes, per case, the usbmon
 *    capture of the case and the transcript of every call's outcome;
 * 2. per speed and per case of the `replayable` section, node-usb-host.replay.test.ts runs the same case
 *    on NodeUsbHost under `umockdev-run --device <description> --pcap <sysfs path>=<capture>`, inside an
 *    outer timeout; the case passes when its assertions pass there too AND its transcript equals the
 *    simulated one (same calls, statuses, lengths, bytes, libusb names);
 * 3. cases of the `timing` section are printed as skipped with the reason (a capture cannot reproduce time).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { USB_HOST_CONTRACT_CASES } from '../../../host-side/usb-host.contract.js';
import { CONTRACT_ENV, contractCaseFiles, REPLAY_SKIPPED_SECTIONS } from './contract-case-files.js';
import { ROOT, runBounded, runReplay, TIMED_OUT_CODES } from './run-umockdev.js';
import { testFunctionDevice, type TierSpeed } from './test-function-device.js';
import type { TranscriptEntry } from './transcript-usb-host.js';
import { sysfsPath, umockdevDescription } from './umockdev-description.js';

const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const CONFIG = join(ROOT, '.ci', 'tiers', 'umockdev', 'umockdev.vitest.config.ts');
const SPEEDS: readonly TierSpeed[] = ['full', 'high'];

/** One printed outcome: `ok` counts as passed, `fail` as failed, `skip` prints its reason and counts as neither. */
export interface ContractTierResult {
  readonly outcome: 'ok' | 'fail' | 'skip';
  readonly name: string;
  readonly detail: string;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const clip = (s: string): string => (s.length > 400 ? `${s.slice(0, 400)}…` : s);

/** The first difference between two transcripts, for the failure message. */
function firstDifference(sim: readonly TranscriptEntry[], node: readonly TranscriptEntry[]): string {
  for (let i = 0; i < Math.max(sim.length, node.length); i++) {
    if (!isDeepStrictEqual(sim[i], node[i])) {
      return `call ${i + 1}:\n  SimUsbHost  ${clip(JSON.stringify(sim[i] ?? 'nothing'))}\n  NodeUsbHost ${clip(JSON.stringify(node[i] ?? 'nothing'))}`;
    }
  }
  return 'none';
}

/**
 * Replays one case on NodeUsbHost. `captureOf` names the case whose capture umockdev plays (default: the
 * same case; another one for the control case).
 */
async function replayCase(dir: string, speed: TierSpeed, title: string, timeoutS: number, captureOf = title): Promise<{ ok: boolean; detail: string }> {
  const files = { ...contractCaseFiles(dir, speed, title), pcap: contractCaseFiles(dir, speed, captureOf).pcap };
  if (!existsSync(files.pcap) || !existsSync(files.sim)) return { ok: false, detail: 'the SimUsbHost recording of this case is missing (see the recording run above)' };
  const { device } = testFunctionDevice(speed);
  const description = join(dir, `${speed}.umockdev`);
  const env = { ...process.env, [CONTRACT_ENV.dir]: dir, [CONTRACT_ENV.replaySpeed]: speed };
  const { code, output } = await runReplay(
    [
      '--device', description,
      '--pcap', `${sysfsPath(device)}=${files.pcap}`,
      '--', process.execPath, VITEST, 'run', '--config', CONFIG, '--reporter', 'dot', '-t', `${escapeRegex(title)}$`,
    ],
    timeoutS,
    env,
  );
  if (TIMED_OUT_CODES.includes(code)) return { ok: false, detail: `replay timed out after ${timeoutS} s (the capture no longer matches what NodeUsbHost submits)\n${output}` };
  if (!existsSync(files.node)) return { ok: false, detail: `the replay exited with ${code} without running the case\n${output}` };
  const sim = JSON.parse(await readFile(files.sim, 'utf8')) as TranscriptEntry[];
  const node = JSON.parse(await readFile(files.node, 'utf8')) as TranscriptEntry[];
  const same = isDeepStrictEqual(sim, node);
  if (code !== 0) return { ok: false, detail: `the contract failed on NodeUsbHost (exit ${code}); transcripts ${same ? 'equal' : `differ at ${firstDifference(sim, node)}`}\n${output}` };
  if (!same) return { ok: false, detail: `NodeUsbHost passed but its outcomes differ from SimUsbHost's at ${firstDifference(sim, node)}` };
  return { ok: true, detail: `${node.length} calls with identical outcomes` };
}

/**
 * Records the contract on SimUsbHost, then replays every replayable case on NodeUsbHost at each speed.
 * `report` is called once per result as it is known.
 */
export async function runContractTier(dir: string, timeoutS: number, report: (r: ContractTierResult) => void): Promise<void> {
  await mkdir(dir, { recursive: true });
  const recording = await runBounded(process.execPath, [VITEST, 'run', '--config', CONFIG, '--reporter', 'dot'], timeoutS, {
    ...process.env,
    [CONTRACT_ENV.dir]: dir,
  });
  if (recording.code !== 0) {
    report({ outcome: 'fail', name: 'SimUsbHost recording run (and the tier unit tests)', detail: `exit ${recording.code}\n${recording.output}` });
  }
  for (const speed of SPEEDS) {
    await writeFile(join(dir, `${speed}.umockdev`), umockdevDescription(testFunctionDevice(speed).device));
    for (const c of USB_HOST_CONTRACT_CASES) {
      const name = `NodeUsbHost (${speed} speed) ${c.section}: ${c.title}`;
      const skipReason = REPLAY_SKIPPED_SECTIONS[c.section];
      if (skipReason !== undefined) {
        report({ outcome: 'skip', name, detail: skipReason });
        continue;
      }
      const r = await replayCase(dir, speed, c.title, timeoutS);
      report({ outcome: r.ok ? 'ok' : 'fail', name, detail: r.detail });
    }
  }
  await controlCase(dir, timeoutS, report);
}

/** The control case's pair: a case replayed from the capture of another one with other payload bytes. */
const CONTROL_CASE = {
  title: 'writes and reads back a control payload (control OUT then IN)',
  captureOf: 'truncates a control IN answer to wLength',
} as const;

/** Proves the contract replay can fail: a case replayed from another case's capture must not pass. */
async function controlCase(dir: string, timeoutS: number, report: (r: ContractTierResult) => void): Promise<void> {
  const name = `control case: NodeUsbHost replaying '${CONTROL_CASE.title}' from the capture of '${CONTROL_CASE.captureOf}' is detected`;
  const titles = USB_HOST_CONTRACT_CASES.filter((c) => REPLAY_SKIPPED_SECTIONS[c.section] === undefined).map((c) => c.title);
  if (!titles.includes(CONTROL_CASE.title) || !titles.includes(CONTROL_CASE.captureOf)) {
    report({ outcome: 'fail', name, detail: 'the control case names contract cases that are not in the replayable section any more: update CONTROL_CASE in contract-tier.ts' });
    return;
  }
  const r = await replayCase(dir, 'high', CONTROL_CASE.title, timeoutS, CONTROL_CASE.captureOf);
  report(
    r.ok
      ? { outcome: 'fail', name, detail: 'the replay passed although the capture belongs to another case: the comparison cannot fail' }
      : { outcome: 'ok', name, detail: `difference detected: ${r.detail.split('\n').slice(0, 3).join(' ')}` },
  );
}
