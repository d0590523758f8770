import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLabConfig, readAgentToken, validateLabConfig } from './lab-config.js';

const good = {
  bench: { id: 'lab-01', tags: ['speed-high', 'hub-uhubctl'], speed: 'high' },
  device: { vendorId: '0x1209', productId: 1, serialNumber: 'LAB-01' },
  function: { interfaceNumber: 0, bulkOut: '0x01', bulkIn: '0x81' },
  agent: { url: 'http://192.0.2.10:7311/', tokenEnv: 'LAB01_TOKEN' },
  lease: { ttlMs: 30_000, waitMs: 600_000 },
  hotplug: { kind: 'uhubctl', hub: '1-1', port: 2 },
};

/** A copy of `good` with one section replaced. */
const withPart = (key: keyof typeof good, value: unknown): Record<string, unknown> => ({ ...good, [key]: value });

describe('lab configuration', () => {
  it('accepts a complete configuration, normalizes hex strings and fills defaults', () => {
    const config = validateLabConfig(good);
    expect(config).toMatchObject({
      bench: { id: 'lab-01', tags: ['speed-high', 'hub-uhubctl'], speed: 'high' },
      device: { vendorId: 0x1209, productId: 1, serialNumber: 'LAB-01' },
      function: { interfaceNumber: 0, bulkIn: 0x81, bulkOut: 0x01 },
      agent: { url: 'http://192.0.2.10:7311', tokenEnv: 'LAB01_TOKEN', deadlineMs: 10_000, heartbeatMs: 2_000, trace: false },
      lease: { ttlMs: 30_000, waitMs: 600_000 },
      hotplug: { kind: 'uhubctl', hub: '1-1', port: 2 },
    });
    expect(config.lease.holder).toMatch(/ pid \d+$/);
    const minimal = validateLabConfig({ bench: { id: 'b', speed: 'full' }, device: good.device, function: good.function, agent: { url: 'http://127.0.0.1:7311' } });
    expect(minimal).toMatchObject({ agent: { tokenEnv: 'USBFN_HIL_AGENT_TOKEN' }, hotplug: { kind: 'none' }, bench: { tags: [] } });
  });

  it('reports an unknown field with the field it probably meant', () => {
    expect(() => validateLabConfig(withPart('device', { vendorId: '0x1209', productId: 1, serialNumbr: 'LAB-01' }))).toThrow(
      /^\[INVALID_CONFIG\] usbfn-hil\.lab\.json: device\.serialNumbr is not a known field \(did you mean serialNumber\?\); known fields here: vendorId, productId, serialNumber\. See docs\/lab-config\.md$/,
    );
    expect(() => validateLabConfig({ ...good, benchh: {} })).toThrow(/benchh is not a known field \(did you mean bench\?\)/);
  });

  it('refuses a token written into the file', () => {
    expect(() => validateLabConfig(withPart('agent', { url: 'http://192.0.2.10:7311', token: 's3cret' }))).toThrow(
      /agent\.token must not be in the file: export the token in the environment variable named by agent\.tokenEnv/,
    );
    expect(() => validateLabConfig(withPart('agent', { url: 'http://user:s3cret@192.0.2.10:7311' }))).toThrow(/agent\.url carries credentials/);
  });

  it('reports every problem at once, each with its field and fix', () => {
    let message = '';
    try {
      validateLabConfig({ ...good, bench: { id: 'lab 01', speed: 'hgih' }, device: { vendorId: '0x1G09', productId: 1 } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/bench\.id is "lab 01": give a short name/);
    expect(message).toMatch(/bench\.speed is "hgih": give the speed the host port negotiates with this device: "full", "high" or "super"/);
    expect(message).toMatch(/device\.vendorId is "0x1G09": give a 16-bit id as a number or a "0x…" string/);
    expect(() => validateLabConfig({ device: good.device, function: good.function, agent: good.agent })).toThrow(/: bench is missing\. See/);
  });

  it('rejects endpoint 0, reserved address bits and the wrong direction', () => {
    expect(() => validateLabConfig(withPart('function', { ...good.function, bulkOut: 0 }))).toThrow(/function\.bulkOut is 0x00, endpoint 0: that is the default control pipe/);
    expect(() => validateLabConfig(withPart('function', { ...good.function, bulkIn: '0x80' }))).toThrow(/function\.bulkIn is 0x80, endpoint 0/);
    expect(() => validateLabConfig(withPart('function', { ...good.function, bulkIn: '0x91' }))).toThrow(/bits 4\.\.6 of an endpoint address are reserved/);
    expect(() => validateLabConfig(withPart('function', { ...good.function, bulkIn: '0x01' }))).toThrow(/function\.bulkIn is 0x01, an OUT address.*bit 7 set/);
    expect(() => validateLabConfig(withPart('function', { ...good.function, bulkOut: '0x82' }))).toThrow(/function\.bulkOut is 0x82, an IN address/);
  });

  it('checks the agent URL and the hotplug variants', () => {
    expect(() => validateLabConfig(withPart('agent', {}))).toThrow(/\[INVALID_CONFIG\].*agent\.url is missing/);
    expect(() => validateLabConfig(withPart('agent', { url: 'ftp://x' }))).toThrow(/agent\.url is "ftp:\/\/x": give the device agent URL/);
    expect(() => validateLabConfig(withPart('hotplug', { kind: 'relay' }))).toThrow(/hotplug\.kind is "relay": use "none", "uhubctl", "port-reset" or "exec"/);
    expect(() => validateLabConfig(withPart('hotplug', { kind: 'uhubctl', hub: '1-1' }))).toThrow(/hotplug\.port is missing: hotplug kind "uhubctl" needs hub and port/);
    expect(() => validateLabConfig(withPart('hotplug', { kind: 'none', port: 2 }))).toThrow(/hotplug\.port does not apply to hotplug kind "none"/);
    expect(validateLabConfig(withPart('hotplug', { kind: 'exec', off: ['relay', 'off'], on: ['relay', 'on'] })).hotplug).toEqual({ kind: 'exec', off: ['relay', 'off'], on: ['relay', 'on'] });
  });

  it('fails fast with a fix-it message when the file is missing or not JSON, and accepts a UTF-8 BOM', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-'));
    expect(() => loadLabConfig({}, dir)).toThrow(/cannot be read.*docs\/lab-config\.md.*USBFN_HIL_LAB_CONFIG.*mode sim/);
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => loadLabConfig({ USBFN_HIL_LAB_CONFIG: 'bad.json' }, dir)).toThrow(/not valid JSON/);
    writeFileSync(join(dir, 'bom.json'), `\uFEFF${JSON.stringify(good)}`);
    expect(loadLabConfig({ USBFN_HIL_LAB_CONFIG: 'bom.json' }, dir).bench.id).toBe('lab-01');
  });

  it('reads the token from the named environment variable, never from the file', () => {
    const config = validateLabConfig(good);
    expect(readAgentToken(config, { LAB01_TOKEN: ' t0ken \n' })).toBe('t0ken');
    expect(() => readAgentToken(config, {})).toThrow(/\[INVALID_CONFIG\] the device agent's token is not set: export LAB01_TOKEN=<token>/);
  });

  it('accepts the complete example of docs/lab-config.md', () => {
    const doc = readFileSync(new URL('../../docs/lab-config.md', import.meta.url), 'utf8');
    const example = /```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(example, 'docs/lab-config.md has a ```json example').toBeDefined();
    expect(validateLabConfig(JSON.parse(example!)).bench.id).toBe('lab-01');
  });
});
