import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/index.js';
import { DEFAULT_DRIVER_SETTINGS, resolveDriverSettings } from './driver-settings.js';

describe('driver settings (docs/win32-backend.md#driver-settings)', () => {
  it('defaults: auto handshake, tolerant bus-event counts, EP0 from PipeArr, NULL-buffer ZLPs', () => {
    expect(resolveDriverSettings()).toEqual({ statusHandshake: 'auto', busEventBytes: 'tolerant', ep0PipeId: 'auto', zeroLengthIn: 'null-buffer' });
    expect(resolveDriverSettings({})).toEqual(DEFAULT_DRIVER_SETTINGS);
  });

  it('overrides each setting; undefined keeps the default', () => {
    expect(resolveDriverSettings({ statusHandshake: 'out', busEventBytes: 'strict', ep0PipeId: 4, zeroLengthIn: 'empty-buffer' })).toEqual({
      statusHandshake: 'out',
      busEventBytes: 'strict',
      ep0PipeId: 4,
      zeroLengthIn: 'empty-buffer',
    });
    expect(resolveDriverSettings({ statusHandshake: undefined }).statusHandshake).toBe('auto');
  });

  it.each([
    [{ statusHandshake: 'sideways' }, /statusHandshake "sideways" is not one of in, out, auto/],
    [{ busEventBytes: 'loose' }, /busEventBytes/],
    [{ zeroLengthIn: 'nothing' }, /zeroLengthIn/],
    [{ ep0PipeId: -1 }, /ep0PipeId -1/],
    [{ ep0PipeId: 1.5 }, /ep0PipeId 1.5/],
    [{ ep0Pipe: 0 }, /unknown driver setting 'ep0Pipe'/],
  ])('rejects %j with a UsageError naming it', (partial, message) => {
    expect(() => resolveDriverSettings(partial as never)).toThrow(UsageError);
    expect(() => resolveDriverSettings(partial as never)).toThrow(message);
  });
});
