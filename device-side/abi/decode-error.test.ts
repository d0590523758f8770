import { describe, expect, it } from 'vitest';
import { HarnessError, UsageError, errorFromJSON } from '../../core/index.js';
import { AbiDecodeError, requireBytes, requireExactBytes, requireOffset } from './decode-error.js';
import { decodeUsbfnPipeInformation } from './class-info.js';
import { decodeGuid } from './guid.js';
import { decodeSetupPacket } from './setup-packet.js';

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

describe('offsets given to the decoders', () => {
  it.each([Number.NaN, 0.5, 1.5, -1, Number.POSITIVE_INFINITY])('offset %s is rejected with a typed error naming the offset', (offset) => {
    expect(() => requireOffset('X', offset)).toThrow(AbiDecodeError);
    const buf = new Uint8Array(64).fill(7);
    for (const decode of [() => decodeSetupPacket(buf, offset), () => decodeUsbfnPipeInformation(buf, offset), () => decodeGuid(buf, offset)]) {
      const err = (() => {
        try {
          decode();
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(AbiDecodeError);
      expect(err).toMatchObject({ code: 'ABI_DECODE', field: '(offset)' });
    }
  });

  it('integer offsets still decode', () => {
    const buf = Uint8Array.of(0xff, 0x21, 0x09, 0x00, 0x02, 0x00, 0x00, 0x08, 0x00);
    expect(decodeSetupPacket(buf, 1)).toEqual({ bmRequestType: 0x21, bRequest: 0x09, wValue: 0x0200, wIndex: 0, wLength: 8 });
  });
});
