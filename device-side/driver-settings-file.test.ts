/** `--driver-settings <file>`: the probe's result file or a plain object of settings, checked. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../core/index.js';
import { DEFAULT_DRIVER_SETTINGS } from './driver-settings.js';
import { readDriverSettingsFile } from './driver-settings-file.js';
import { newObservations, type DeviceProbeResult } from './probe/index.js';

const dir = mkdtempSync(join(tmpdir(), 'usbfn-hil-driver-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(content: unknown): string {
  const path = join(dir, `settings-${++n}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

/** A probe result as `usbfn-hil device probe` writes it (typed by the probe's own interface, plus its trace path). */
function probeResult(recommendedSettings: DeviceProbeResult['recommendedSettings'], complete = true): DeviceProbeResult & { trace: string } {
  return {
    format: 'usbfn-hil-probe-result',
    version: 1,
    complete,
    startedAt: '2025-01-01T00:00:00.000Z',
    symbolicLink: '\\\\?\\USBFN#1',
    findings: [{ id: 'drv-no-data-handshake', verdict: 'refuted', observed: 'HANDSHAKE_IN refused with 87' }],
    recommendedSettings,
    observations: newObservations(),
    trace: 'reports/probe/device-trace-1.jsonl',
  };
}

describe('readDriverSettingsFile', () => {
  it("takes a probe result's recommendedSettings; what the probe left out runs at its default", () => {
    const path = file(probeResult({ statusHandshake: 'out', ep0PipeId: 0 }, false));
    expect(readDriverSettingsFile(path)).toEqual({
      path,
      kind: 'probe-result',
      given: { statusHandshake: 'out', ep0PipeId: 0 },
      settings: { ...DEFAULT_DRIVER_SETTINGS, statusHandshake: 'out', ep0PipeId: 0 },
      probeComplete: false,
    });
  });

  it('takes a plain object of settings, also behind a UTF-8 byte order mark', () => {
    const path = file(`\uFEFF${JSON.stringify({ busEventBytes: 'strict', zeroLengthIn: 'append-zero-packet' })}`);
    expect(readDriverSettingsFile(path)).toMatchObject({
      kind: 'settings',
      settings: { statusHandshake: 'auto', busEventBytes: 'strict', ep0PipeId: 'auto', zeroLengthIn: 'append-zero-packet' },
    });
  });

  it.each([
    ['an unknown key', { statusHandshak: 'out' }, /--driver-settings .*settings-\d+\.json: unknown driver setting 'statusHandshak': use one of statusHandshake, busEventBytes, ep0PipeId, zeroLengthIn/],
    ['a bad value', { statusHandshake: 'sideways' }, /--driver-settings .*settings-\d+\.json: driver setting statusHandshake "sideways" is not one of in, out, auto/],
    ['a bad EP0 pipe id', { ep0PipeId: '3' }, /--driver-settings .*: driver setting ep0PipeId "3" is not "auto" or a USBFNPIPEID/],
    ['a bad recommended value', probeResult({ zeroLengthIn: 'nothing' as never }), /\(recommendedSettings\): driver setting zeroLengthIn "nothing" is not one of null-buffer, empty-buffer, append-zero-packet/],
    ['a probe result of another version', { ...probeResult({}), version: 2 }, /probe result of version 2; this usbfn-hil reads version 1/],
    ['a probe result without recommendedSettings', { format: 'usbfn-hil-probe-result', version: 1 }, /without a recommendedSettings object/],
    ['an array', [{ statusHandshake: 'out' }], /holds an array, not an object: give an object of driver settings/],
    ['not JSON', '{ statusHandshake: out }', /is not JSON \(.*\): give an object of driver settings/],
  ])('refuses %s with one line naming the file', (_what, content, message) => {
    const path = file(content);
    const err = (() => {
      try {
        readDriverSettingsFile(path);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).not.toContain('\n');
  });

  it('refuses a missing file, saying so', () => {
    expect(() => readDriverSettingsFile(join(dir, 'absent.json'))).toThrow(/absent\.json cannot be read \(ENOENT\)/);
  });
});
