import { describe, expect, it } from 'vitest';
import { failureOutcome, scenarioOutcome } from './outcome.js';

describe('scenario outcomes', () => {
  it('files product errors and assertions as failed, infrastructure and untyped exceptions as broken', () => {
    expect(failureOutcome({ name: 'AssertionError', expected: 1, actual: 2 })).toBe('failed');
    expect(failureOutcome({ name: 'Win32Error', code: 'WIN32' })).toBe('failed');
    expect(failureOutcome({ name: 'LibusbError', code: 'LIBUSB' })).toBe('failed');
    expect(failureOutcome({ name: 'TimeoutError', code: 'TIMEOUT' })).toBe('failed');
    expect(failureOutcome({ name: 'LabAgentError', code: 'LAB_AGENT_UNREACHABLE' })).toBe('broken');
    expect(failureOutcome({ name: 'PowerError', code: 'LAB_POWER_NO_HUB' })).toBe('broken');
    expect(failureOutcome({ name: 'UsageError', code: 'INVALID_CONFIG' })).toBe('broken');
    expect(failureOutcome({ name: 'TypeError', stack: 'TypeError: x is undefined\n at harness/rig.ts' })).toBe('broken');
    expect(failureOutcome(undefined)).toBe('broken');
  });

  it('maps vitest states', () => {
    expect(scenarioOutcome('passed', undefined)).toBe('passed');
    expect(scenarioOutcome('skipped', undefined)).toBe('skipped');
    expect(scenarioOutcome('failed', { code: 'WIN32' })).toBe('failed');
  });
});
