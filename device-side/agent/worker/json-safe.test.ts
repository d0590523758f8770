/** Log entry details as plain JSON for the IPC channel and the wire. */
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../../../core/index.js';
import { jsonSafe } from './json-safe.js';

describe('jsonSafe', () => {
  it('turns bigints, bytes and errors into JSON data and drops what JSON cannot carry', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    const out = jsonSafe({
      counters: { bulkOutBytes: 4096n, huge: 2n ** 70n },
      bytes: Uint8Array.from([0xde, 0xad]),
      long: new Uint8Array(100),
      err: new TimeoutError('x', 5),
      plain: new RangeError('r'),
      fn: () => 1,
      nan: Number.NaN,
      missing: undefined,
      list: [1, undefined, 'x'],
      cyclic,
    });
    expect(out).toMatchObject({
      counters: { bulkOutBytes: 4096, huge: '1180591620717411303424' },
      bytes: 'dead',
      long: expect.stringMatching(/^0{128}… \(100 bytes\)$/),
      err: { name: 'TimeoutError', code: 'TIMEOUT' },
      plain: { name: 'RangeError', message: 'r' },
      nan: 'NaN',
      list: [1, null, 'x'],
      cyclic: { a: 1, self: '[cycle]' },
    });
    expect(out).not.toHaveProperty('fn');
    expect(out).not.toHaveProperty('missing');
    expect(() => JSON.stringify(out)).not.toThrow();
  });
});
