import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLabConfig, validateLabConfig } from './lab-config.js';

const good = {
  device: { vendorId: '0x1209', productId: 1, serialNumber: 'LAB-01' },
  function: { interfaceNumber: 0, bulkOut: '0x01', bulkIn: '0x81' },
  agent: { url: 'http://192.0.2.10:7311' },
  hotplug: { kind: 'uhubctl', hub: '1-1', port: 2 },
};

describe('lab configuration', () => {
  it('accepts a complete configuration and normalizes hex strings', () => {
    expect(validateLabConfig(good)).toMatchObject({
      device: { vendorId: 0x1209, productId: 1, serialNumber: 'LAB-01' },
      function: { bulkIn: 0x81, bulkOut: 0x01 },
      hotplug: { kind: 'uhubctl', hub: '1-1', port: 2 },
    });
  });

  it('names the field and the fix when an endpoint has the wrong direction', () => {
    expect(() => validateLabConfig({ ...good, function: { ...good.function, bulkIn: '0x01' } })).toThrow(
      /function.bulkIn is 0x1, an OUT address.*bit 7 set/,
    );
  });

  it('rejects a missing agent URL and an unknown hotplug kind', () => {
    expect(() => validateLabConfig({ ...good, agent: {} })).toThrow(/\[INVALID_CONFIG\].*agent.url/);
    expect(() => validateLabConfig({ ...good, hotplug: { kind: 'relay' } })).toThrow(/hotplug.kind.*"none", "uhubctl" or "port-reset"/);
  });

  it('fails fast with a fix-it message when the file is missing or not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-'));
    expect(() => loadLabConfig({}, dir)).toThrow(/cannot be read.*USBFN_HIL_LAB_CONFIG.*mode sim/);
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => loadLabConfig({ USBFN_HIL_LAB_CONFIG: 'bad.json' }, dir)).toThrow(/not valid JSON/);
  });
});
