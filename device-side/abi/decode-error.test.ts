import { describe, expect, it } from 'vitest';
import { HarnessError, UsageError, errorFromJSON } from '../../core/index.js';
import { AbiDecodeError, requireBytes, requireExactBytes } from './decode-error.js';

describe('AbiDecodeError', () => {
  it('names struct, field and sizes in a stable-code HarnessError', () => {
    const err = new AbiDecodeError({ struct: 'USBFN_NOTIFICATION', field: '(buffer)', expectedBytes: 12, actualBytes: 11, detail: 'too short' });
    expect(err).toBeInstanceOf(HarnessError);
    expect(err).toMatchObject({ code: 'ABI_DECODE', struct: 'USBFN_NOTIFICATION', field: '(buffer)', expectedBytes: 12, actualBytes: 11 });
    expect(err.message).toBe('[ABI_DECODE] USBFN_NOTIFICATION.(buffer): too short (expected 12 bytes, got 11)');
    const back = errorFromJSON(JSON.parse(JSON.stringify(err)));
    expect(back).toMatchObject({ code: 'ABI_DECODE', message: err.message, data: { struct: 'USBFN_NOTIFICATION', expectedBytes: 12 } });
  });

  it('the size guards throw it', () => {
    expect(() => requireBytes('X', new Uint8Array(3), 4)).toThrow(AbiDecodeError);
    expect(() => requireBytes('X', new Uint8Array(4), 4, -1)).toThrow(AbiDecodeError);
    expect(() => requireBytes('X', new Uint8Array(4), 4)).not.toThrow();
    expect(() => requireExactBytes('X', new Uint8Array(5), 4)).toThrow(/too long/);
    expect(new UsageError('ABI_ENCODE', 'x').code).toBe('ABI_ENCODE');
  });
});
