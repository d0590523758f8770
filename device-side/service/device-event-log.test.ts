/** Unit tests of the device event log: entries, typed errors as plain data, the ring bound. */
import { describe, expect, it } from 'vitest';
import { Win32Error } from '../../core/index.js';
import { DeviceEventLog } from './device-event-log.js';

describe('DeviceEventLog', () => {
  it('records entries with level, kind, detail and the clock time, oldest first', () => {
    let t = 5;
    const log = new DeviceEventLog(() => t);
    log.info('open', { link: 'x' });
    t = 7.5;
    log.warn('busEvent', { type: 'odd' });
    expect(log.entries).toEqual([
      { timeMs: 5, level: 'info', kind: 'open', detail: { link: 'x' } },
      { timeMs: 7.5, level: 'warn', kind: 'busEvent', detail: { type: 'odd' } },
    ]);
    expect(log.ofKind('open')).toHaveLength(1);
    expect(log.lastError).toBeUndefined();
  });

  it('keeps a HarnessError as its toJSON() (name, code, fields, cause) and wraps anything else', () => {
    const log = new DeviceEventLog(() => 0);
    const err = new Win32Error({ api: 'DeviceIoControl', win32: 31, win32Name: 'ERROR_GEN_FAILURE', ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_IN' });
    log.error('openFailed', err, { link: 'L' });
    expect(log.lastError).toMatchObject({
      level: 'error',
      kind: 'openFailed',
      detail: { link: 'L' },
      error: { name: 'Win32Error', code: 'WIN32', data: { win32: 31, win32Name: 'ERROR_GEN_FAILURE' } },
    });
    log.error('functionError', new TypeError('nope'));
    expect(log.lastError?.error).toEqual({ name: 'TypeError', code: 'UNEXPECTED', message: 'nope', data: {} });
    log.error('functionError', 'a string');
    expect(log.lastError?.error).toMatchObject({ name: 'unknown', message: 'a string' });
    expect(JSON.parse(JSON.stringify(log))).toMatchObject({ dropped: 0, entries: { length: 3 } });
  });

  it('is bounded: drops the oldest half when full, counts the drops, keeps lastError', () => {
    const log = new DeviceEventLog(() => 0, 10);
    log.error('first', new Error('e'));
    for (let i = 0; i < 10; i++) log.info(`n${i}`);
    expect(log.entries.length).toBeLessThanOrEqual(10);
    expect(log.dropped).toBe(6);
    expect(log.entries[0]?.kind).toBe('n5');
    expect(log.entries.at(-1)?.kind).toBe('n9');
    expect(log.lastError?.kind).toBe('first');
    expect(log.toJSON().dropped).toBe(6);
  });

  it('tells listeners of every entry in order, past the ring bound, until they unsubscribe; a throwing listener is isolated', () => {
    const log = new DeviceEventLog(() => 1, 4);
    const seen: string[] = [];
    log.onEntry(() => {
      throw new Error('observer bug');
    });
    const off = log.onEntry((e) => seen.push(`${e.level}:${e.kind}`));
    for (let i = 0; i < 6; i++) log.info(`n${i}`);
    log.error('failed', new Error('x'));
    off();
    log.info('after');
    expect(seen).toEqual(['info:n0', 'info:n1', 'info:n2', 'info:n3', 'info:n4', 'info:n5', 'error:failed']);
    expect(log.entries.length).toBeLessThanOrEqual(4);
    expect(log.entries.at(-1)?.kind).toBe('after');
  });
});

describe('DeviceEventLog.warnOnce', () => {
  it('records a warning of a kind the first time only', () => {
    const log = new DeviceEventLog(() => 5);
    expect(log.warnOnce('busEventBytesReturned', { bytesReturned: 8 })).toBe(true);
    expect(log.warnOnce('busEventBytesReturned', { bytesReturned: 6 })).toBe(false);
    log.warn('busEventBytesReturned'); // plain warn is not limited
    expect(log.ofKind('busEventBytesReturned').map((e) => [e.level, e.detail?.['bytesReturned']])).toEqual([
      ['warn', 8],
      ['warn', undefined],
    ]);
  });
});
