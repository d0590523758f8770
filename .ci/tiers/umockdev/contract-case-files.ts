/**
 * How the umockdev tier, the SimUsbHost recording run and the NodeUsbHost replay run agree on where one
 * contract case's files are: `<dir>/<speed>/<slug>.{pcap,sim.json,node.json}`, with the directory, speed
 * and case passed through the environment (vitest runs them in separate processes).
 */
import { join } from 'node:path';
import type { UsbHostContractSection } from '../../../host-side/usb-host.contract.js';
import type { TierSpeed } from './test-function-device.js';

/** Environment of the recording and replay runs. */
export const CONTRACT_ENV = {
  /** Directory for captures and transcripts. */
  dir: 'USBFN_UMOCKDEV_CONTRACT_DIR',
  /** Set (to the speed) only inside umockdev-run: selects the NodeUsbHost replay file. */
  replaySpeed: 'USBFN_UMOCKDEV_REPLAY_SPEED',
} as const;

/**
 * Why the `timing` section of the contract is not run on the replay (printed for every case it skips).
 * @see docs/host-side.md (limits of umockdev's replay)
 */
export const TIMING_SKIP_REASON =
  "umockdev's pcap replay reproduces URBs, not time: a timed-out or cancelled URB's recorded completion (-ECONNRESET) is reaped at once and libusb sees a zero-length success, so timeouts and cancellation are checked on SimUsbHost only";

/** The contract sections the replay cannot check, each with the reason printed for every case it skips. */
export const REPLAY_SKIPPED_SECTIONS: Partial<Record<UsbHostContractSection, string>> = { timing: TIMING_SKIP_REASON };

/** A file-name-safe form of a case title. */
export function caseSlug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);
}

export interface ContractCaseFiles {
  /** usbmon capture of the case on SimUsbHost (what umockdev replays). */
  readonly pcap: string;
  /** Transcript of the SimUsbHost run. */
  readonly sim: string;
  /** Transcript of the NodeUsbHost replay. */
  readonly node: string;
}

export function contractCaseFiles(dir: string, speed: TierSpeed, title: string): ContractCaseFiles {
  const base = join(dir, speed, caseSlug(title));
  return { pcap: `${base}.pcap`, sim: `${base}.sim.json`, node: `${base}.node.json` };
}

/** The environment variable `name`, or a UsageError-style failure that says how the file is meant to run. */
export function requireEnv(name: string, file: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${file} runs from the umockdev tier (npm run test:umockdev), which sets ${name}; it was not set`);
  }
  return value;
}

/** `speed` checked against the tier's speeds. */
export function parseSpeed(value: string): TierSpeed {
  if (value === 'full' || value === 'high') return value;
  throw new Error(`unknown tier speed '${value}': expected 'full' or 'high'`);
}
