/**
 * Reads the driver settings a device runs with from a file (`usbfn-hil agent serve --driver-settings <file>`).
 * The file is one of two JSON shapes:
 *
 * - the result file of `usbfn-hil device probe` (`"format": "usbfn-hil-probe-result"`, docs/first-light.md#the-result-file),
 *   whose `recommendedSettings` are taken: the probe leaves out what it could not settle, which then runs at
 *   its default;
 * - a plain object of settings, e.g. `{ "statusHandshake": "out" }` (the same keys and values).
 *
 * Either way the settings are checked by {@link resolveDriverSettings}: an unknown key or a bad value is a
 * one-line UsageError naming the key, the allowed values and the file.
 *
 * @see docs/win32-backend.md#driver-settings
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/index.js';
import { resolveDriverSettings, type UsbFnDriverSettings } from './driver-settings.js';
import type { DeviceProbeResult } from './probe/index.js';

/** The `format` of the probe's result file. */
const PROBE_RESULT_FORMAT: DeviceProbeResult['format'] = 'usbfn-hil-probe-result';
const PROBE_RESULT_VERSION: DeviceProbeResult['version'] = 1;

/** What {@link readDriverSettingsFile} read. */
export interface DriverSettingsFile {
  readonly path: string;
  /** `probe-result`: the probe's recommendedSettings; `settings`: a plain object of settings. */
  readonly kind: 'probe-result' | 'settings';
  /** The settings the file names (the rest run at their defaults). */
  readonly given: Partial<UsbFnDriverSettings>;
  /** Every setting, the file's over the defaults. */
  readonly settings: UsbFnDriverSettings;
  /** For a probe result: whether the probe ran every step (an incomplete one settled less). */
  readonly probeComplete?: boolean | undefined;
}

const SHAPES = 'give an object of driver settings such as {"statusHandshake":"out"}, or the result file of usbfn-hil device probe';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads and checks a driver-settings file (a UTF-8 byte order mark, as Notepad writes, is accepted).
 * @throws UsageError INVALID_ARGUMENT when the file cannot be read, is not JSON, has neither shape, or names
 *   an unknown setting or a bad value (the message names the key, the allowed values and the file).
 */
export function readDriverSettingsFile(path: string): DriverSettingsFile {
  const source = `--driver-settings ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    throw new UsageError('INVALID_ARGUMENT', `${source} cannot be read (${code}): give the path of the probe's result file or of a JSON object of driver settings`, { source, errno: code }, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UsageError('INVALID_ARGUMENT', `${source} is not JSON (${(err as Error).message}): ${SHAPES}`, { source }, { cause: err });
  }
  if (!isObject(json)) {
    throw new UsageError('INVALID_ARGUMENT', `${source} holds ${Array.isArray(json) ? 'an array' : JSON.stringify(json)}, not an object: ${SHAPES}`, { source });
  }
  if (json['format'] === PROBE_RESULT_FORMAT) {
    if (json['version'] !== PROBE_RESULT_VERSION) {
      throw new UsageError(
        'INVALID_ARGUMENT',
        `${source} is a probe result of version ${JSON.stringify(json['version'])}; this usbfn-hil reads version ${PROBE_RESULT_VERSION}: run usbfn-hil device probe of this version again`,
        { source },
      );
    }
    const recommended = json['recommendedSettings'];
    if (!isObject(recommended)) {
      throw new UsageError('INVALID_ARGUMENT', `${source} is a probe result without a recommendedSettings object: run usbfn-hil device probe again`, { source });
    }
    const given = recommended as Partial<UsbFnDriverSettings>;
    return { path, kind: 'probe-result', given, settings: resolveDriverSettings(given, { source: `${source} (recommendedSettings)` }), probeComplete: json['complete'] === true };
  }
  const given = json as Partial<UsbFnDriverSettings>;
  return { path, kind: 'settings', given, settings: resolveDriverSettings(given, { source }) };
}
