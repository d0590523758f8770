/**
 * The lab configuration: which real device and host PC a `lab` run uses. Read from the JSON file named by
 * USBFN_HIL_LAB_CONFIG (default `usbfn-hil.lab.json` in the project root) and validated up front, so a lab
 * run fails fast with a fix-it message instead of timing out in its first scenario.
 *
 * @example usbfn-hil.lab.json
 * {
 *   "device": { "vendorId": "0x1209", "productId": "0x0001", "serialNumber": "LAB-01" },
 *   "function": { "interfaceNumber": 0, "bulkOut": "0x01", "bulkIn": "0x81" },
 *   "agent": { "url": "http://192.0.2.10:7311" },
 *   "hotplug": { "kind": "uhubctl", "hub": "1-1", "port": 2 }
 * }
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../core/index.js';

export const LAB_CONFIG_ENV = 'USBFN_HIL_LAB_CONFIG';
export const DEFAULT_LAB_CONFIG = 'usbfn-hil.lab.json';

export interface LabConfig {
  readonly device: { readonly vendorId: number; readonly productId: number; readonly serialNumber?: string | undefined };
  readonly function: { readonly interfaceNumber: number; readonly bulkOut: number; readonly bulkIn: number };
  /** Where the device agent (running on the Windows device) listens. */
  readonly agent: { readonly url: string };
  /** How the harness unplugs and replugs the device without a human (STYLE.md §7). */
  readonly hotplug:
    | { readonly kind: 'none' }
    | { readonly kind: 'uhubctl'; readonly hub: string; readonly port: number }
    | { readonly kind: 'port-reset' };
}

function fail(path: string, field: string, problem: string, fix: string): never {
  throw new UsageError('INVALID_CONFIG', `${path}: ${field} ${problem}. ${fix}`, { path, field });
}

function int(path: string, field: string, v: unknown, max: number): number {
  const n = typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v.slice(2), 16) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    fail(path, field, `is ${JSON.stringify(v)}`, `Give an integer 0..0x${max.toString(16)} (number or "0x.." string)`);
  }
  return n;
}

function obj(path: string, field: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, field, 'is missing or not an object', 'See the example in harness/lab-config.ts');
  return v as Record<string, unknown>;
}

/** Validates parsed JSON as a {@link LabConfig}. @throws UsageError INVALID_CONFIG naming the field and the fix. */
export function validateLabConfig(raw: unknown, path = DEFAULT_LAB_CONFIG): LabConfig {
  const root = obj(path, '(root)', raw);
  const device = obj(path, 'device', root['device']);
  const fn = obj(path, 'function', root['function']);
  const agent = obj(path, 'agent', root['agent']);
  const hotplug = obj(path, 'hotplug', root['hotplug'] ?? { kind: 'none' });
  const url = agent['url'];
  if (typeof url !== 'string' || !/^https?:\/\/[^/]+/.test(url)) {
    fail(path, 'agent.url', `is ${JSON.stringify(url)}`, 'Give the device agent URL, e.g. "http://192.0.2.10:7311"');
  }
  const serial = device['serialNumber'];
  if (serial !== undefined && typeof serial !== 'string') fail(path, 'device.serialNumber', 'is not a string', 'Quote it');
  const bulkIn = int(path, 'function.bulkIn', fn['bulkIn'], 0xff);
  const bulkOut = int(path, 'function.bulkOut', fn['bulkOut'], 0xff);
  if ((bulkIn & 0x80) === 0) fail(path, 'function.bulkIn', `is 0x${bulkIn.toString(16)}, an OUT address`, 'IN endpoint addresses have bit 7 set, e.g. "0x81"');
  if ((bulkOut & 0x80) !== 0) fail(path, 'function.bulkOut', `is 0x${bulkOut.toString(16)}, an IN address`, 'OUT endpoint addresses have bit 7 clear, e.g. "0x01"');
  let hp: LabConfig['hotplug'];
  switch (hotplug['kind']) {
    case 'none':
    case 'port-reset':
      hp = { kind: hotplug['kind'] };
      break;
    case 'uhubctl': {
      const hub = hotplug['hub'];
      if (typeof hub !== 'string' || hub === '') fail(path, 'hotplug.hub', 'is missing', 'Give the uhubctl hub location, e.g. "1-1" (see `uhubctl` output)');
      hp = { kind: 'uhubctl', hub, port: int(path, 'hotplug.port', hotplug['port'], 255) };
      break;
    }
    default:
      fail(path, 'hotplug.kind', `is ${JSON.stringify(hotplug['kind'])}`, 'Use "none", "uhubctl" or "port-reset"');
  }
  return {
    device: {
      vendorId: int(path, 'device.vendorId', device['vendorId'], 0xffff),
      productId: int(path, 'device.productId', device['productId'], 0xffff),
      serialNumber: serial,
    },
    function: { interfaceNumber: int(path, 'function.interfaceNumber', fn['interfaceNumber'], 0xff), bulkIn, bulkOut },
    agent: { url },
    hotplug: hp,
  };
}

/** Reads and validates the lab configuration file. @throws UsageError INVALID_CONFIG */
export function loadLabConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LabConfig {
  const path = resolve(cwd, env[LAB_CONFIG_ENV] ?? DEFAULT_LAB_CONFIG);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(
      'INVALID_CONFIG',
      `lab mode needs a lab configuration, but ${path} cannot be read. Create it (example in harness/lab-config.ts) or point ${LAB_CONFIG_ENV} at it; to run without hardware use mode sim`,
      { path },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError('INVALID_CONFIG', `${path} is not valid JSON (${(err as Error).message}). Fix the syntax`, { path });
  }
  return validateLabConfig(raw, path);
}
