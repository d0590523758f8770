import { describe, expect, it } from 'vitest';
import { errorFromJSON, isCancelled, isGone, isStall, isTimeout, LibusbError } from '../core/index.js';
import {
  LIBUSB_ERROR,
  LIBUSB_TRANSFER,
  libusbError,
  libusbErrorFrom,
  libusbName,
  transferStatusOf,
} from './libusb-error.js';

/** libusb.h values, written out independently of the table under test. */
const ERRORS: [number, string][] = [
  [-1, 'LIBUSB_ERROR_IO'],
  [-2, 'LIBUSB_ERROR_INVALID_PARAM'],
  [-3, 'LIBUSB_ERROR_ACCESS'],
  [-4, 'LIBUSB_ERROR_NO_DEVICE'],
  [-5, 'LIBUSB_ERROR_NOT_FOUND'],
  [-6, 'LIBUSB_ERROR_BUSY'],
  [-7, 'LIBUSB_ERROR_TIMEOUT'],
  [-8, 'LIBUSB_ERROR_OVERFLOW'],
  [-9, 'LIBUSB_ERROR_PIPE'],
  [-10, 'LIBUSB_ERROR_INTERRUPTED'],
  [-11, 'LIBUSB_ERROR_NO_MEM'],
  [-12, 'LIBUSB_ERROR_NOT_SUPPORTED'],
  [-99, 'LIBUSB_ERROR_OTHER'],
];
const TRANSFERS: [number, string][] = [
  [1, 'LIBUSB_TRANSFER_ERROR'],
  [2, 'LIBUSB_TRANSFER_TIMED_OUT'],
  [3, 'LIBUSB_TRANSFER_CANCELLED'],
  [4, 'LIBUSB_TRANSFER_STALL'],
  [5, 'LIBUSB_TRANSFER_NO_DEVICE'],
  [6, 'LIBUSB_TRANSFER_OVERFLOW'],
];

describe('libusb name tables', () => {
  it.each(ERRORS)('names LIBUSB_ERROR %i as %s with a hint', (errno, name) => {
    expect(libusbName(errno)).toBe(name);
    expect(LIBUSB_ERROR[name as keyof typeof LIBUSB_ERROR]).toBe(errno);
    const err = libusbError('open', errno);
    expect(err).toBeInstanceOf(LibusbError);
    expect(err).toMatchObject({ code: 'LIBUSB', op: 'open', errno, libusbName: name });
    expect(err.message).toMatch(new RegExp(`^\\[LIBUSB ${name}\\(${errno}\\)\\] open\\(\\) failed: .{10,}`));
  });

  it.each(TRANSFERS)('names LIBUSB_TRANSFER %i as %s with endpoint and actual length', (errno, name) => {
    expect(libusbName(errno)).toBe(name);
    expect(LIBUSB_TRANSFER[name as keyof typeof LIBUSB_TRANSFER]).toBe(errno);
    const err = libusbError('bulkIn', errno, { endpoint: 0x81, actualLength: 64, detail: 'after 64 of 512 bytes' });
    expect(err).toMatchObject({ errno, libusbName: name, endpoint: 0x81, actualLength: 64 });
    expect(err.message).toContain(`[LIBUSB ${name}(${errno})] bulkIn(0x81) failed: after 64 of 512 bytes; `);
  });

  it('names success/completed and unknown values', () => {
    expect(libusbName(0)).toBe('LIBUSB_SUCCESS');
    expect(LIBUSB_TRANSFER.LIBUSB_TRANSFER_COMPLETED).toBe(0);
    expect(libusbName(-42)).toBe('LIBUSB_UNKNOWN(-42)');
    expect(libusbName(9)).toBe('LIBUSB_UNKNOWN(9)');
  });

  it('feeds the cross-world predicates', () => {
    expect(isTimeout(libusbError('x', -7))).toBe(true);
    expect(isTimeout(libusbError('x', 2))).toBe(true);
    expect(isStall(libusbError('x', -9))).toBe(true);
    expect(isStall(libusbError('x', 4))).toBe(true);
    expect(isGone(libusbError('x', -4))).toBe(true);
    expect(isGone(libusbError('x', 5))).toBe(true);
    expect(isCancelled(libusbError('x', 3))).toBe(true);
    expect(isCancelled(libusbError('x', -10))).toBe(true);
    expect(isTimeout(libusbError('x', -1))).toBe(false);
  });

  it('survives toJSON → errorFromJSON with its fields', () => {
    const err = libusbError('bulkOut', 2, { endpoint: 0x01, actualLength: 1024 });
    const back = errorFromJSON(JSON.parse(JSON.stringify(err)) as ReturnType<LibusbError['toJSON']>);
    expect(back).toBeInstanceOf(LibusbError);
    expect(back).toMatchObject({ errno: 2, libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', endpoint: 1, actualLength: 1024 });
    expect(back.message).toBe(err.message);
  });
});

describe('libusbErrorFrom (node-usb exceptions)', () => {
  class FakeLibUSBException extends Error {
    constructor(
      message: string,
      readonly errno: number,
    ) {
      super(message);
    }
  }

  it('keeps the errno of a LibUSBException and chains it as cause', () => {
    const ex = new FakeLibUSBException('LIBUSB_ERROR_ACCESS', -3);
    const err = libusbErrorFrom('open', ex);
    expect(err).toMatchObject({ errno: -3, libusbName: 'LIBUSB_ERROR_ACCESS' });
    expect(err.cause).toBe(ex);
  });

  it('keeps a transfer status from a completion callback', () => {
    const err = libusbErrorFrom('bulkIn', new FakeLibUSBException('LIBUSB_TRANSFER_NO_DEVICE', 5), { endpoint: 0x82, actualLength: 0 });
    expect(err).toMatchObject({ errno: 5, libusbName: 'LIBUSB_TRANSFER_NO_DEVICE', endpoint: 0x82 });
  });

  it('maps other errors to LIBUSB_ERROR_OTHER with the node-usb message', () => {
    const err = libusbErrorFrom('bulkOut', new Error('Device is not open'));
    expect(err).toMatchObject({ errno: -99, libusbName: 'LIBUSB_ERROR_OTHER' });
    expect(err.message).toContain('node-usb: Device is not open');
    expect(libusbErrorFrom('x', 'boom').message).toContain('boom');
  });

  it('passes a LibusbError through unchanged', () => {
    const err = libusbError('x', -4);
    expect(libusbErrorFrom('y', err)).toBe(err);
  });
});

describe('transferStatusOf', () => {
  it('resolves stall and babble, rejects the rest', () => {
    expect(transferStatusOf(0)).toBe('ok');
    expect(transferStatusOf(4)).toBe('stall');
    expect(transferStatusOf(-9)).toBe('stall');
    expect(transferStatusOf(6)).toBe('babble');
    expect(transferStatusOf(-8)).toBe('babble');
    for (const e of [1, 2, 3, 5, -1, -2, -3, -4, -5, -6, -7, -10, -11, -12, -99]) expect(transferStatusOf(e)).toBeUndefined();
  });
});
