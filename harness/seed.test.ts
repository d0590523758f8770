import { describe, expect, it } from 'vitest';
import { formatSeed, parseSeed, runSeedFromEnv, scenarioSeed } from './seed.js';

describe('seeds', () => {
  it('parses decimal and hex seeds', () => {
    expect(parseSeed('42')).toBe(42);
    expect(parseSeed('0x2A')).toBe(42);
    expect(parseSeed(' 0xffffffff ')).toBe(0xffffffff);
  });

  it('rejects bad seeds with a message that shows the accepted form', () => {
    expect(() => parseSeed('-1')).toThrow(/0x-hex integer in 0..0xFFFFFFFF/);
    expect(() => parseSeed('0x100000000')).toThrow(/INVALID_SEED/);
    expect(() => parseSeed('seed')).toThrow(/USBFN_HIL_SEED='seed'/);
  });

  it('takes the run seed from the environment or makes a fresh one', () => {
    expect(runSeedFromEnv({ USBFN_HIL_SEED: '7' })).toEqual({ seed: 7, fresh: false });
    const fresh = runSeedFromEnv({});
    expect(fresh.fresh).toBe(true);
    expect(fresh.seed).toBeGreaterThanOrEqual(0);
  });

  it('derives scenario seeds from the run seed and the name only', () => {
    const a = scenarioSeed(1, 'bulk > loopback 512 bytes');
    expect(scenarioSeed(1, 'bulk > loopback 512 bytes')).toBe(a);
    expect(scenarioSeed(2, 'bulk > loopback 512 bytes')).not.toBe(a);
    expect(scenarioSeed(1, 'bulk > loopback 513 bytes')).not.toBe(a);
    expect(formatSeed(0x2a)).toBe('0x0000002a');
  });
});
