/**
 * The URB status both ways: what the server reports for each UsbHost outcome (as a Linux host controller),
 * and what the client makes of each status (as libusb's Linux backend) — and that the two compose to the
 * same libusb name, so a UsbHost behind a USB/IP link reports what it reports in process.
 */
import { describe, expect, it } from 'vitest';
import { LibusbError, TimeoutError } from '../../core/index.js';
import { LIBUSB_ERROR, LIBUSB_TRANSFER, libusbError } from '../libusb-error.js';
import { describeUsbIpStatus, requestErrorOfStatus, transferOutcomeOfStatus, usbipStatus, usbipStatusOfError, usbipStatusOfResult } from './usbip-status.js';

describe('USB/IP URB status', () => {
  it('reports resolved outcomes as 0, -EPIPE and -EOVERFLOW', () => {
    expect(usbipStatusOfResult('ok')).toBe(0);
    expect(usbipStatusOfResult('stall')).toBe(-32);
    expect(usbipStatusOfResult('babble')).toBe(-75);
  });

  it.each([
    ['LIBUSB_TRANSFER_NO_DEVICE', -19],
    ['LIBUSB_ERROR_NO_DEVICE', -19],
    ['LIBUSB_TRANSFER_CANCELLED', -104],
    ['LIBUSB_TRANSFER_TIMED_OUT', -110],
    ['LIBUSB_ERROR_TIMEOUT', -110],
    ['LIBUSB_ERROR_PIPE', -32],
    ['LIBUSB_TRANSFER_OVERFLOW', -75],
    ['LIBUSB_ERROR_NOT_FOUND', -2],
    ['LIBUSB_ERROR_BUSY', -16],
    ['LIBUSB_TRANSFER_ERROR', -71],
    ['LIBUSB_ERROR_OTHER', -5],
  ] as const)('reports a rejection with %s as %i', (name, status) => {
    const errno = name in LIBUSB_ERROR ? LIBUSB_ERROR[name as keyof typeof LIBUSB_ERROR] : LIBUSB_TRANSFER[name as keyof typeof LIBUSB_TRANSFER];
    expect(usbipStatusOfError(libusbError('bulkIn', errno))).toBe(status);
  });

  it('reports a harness timeout as -ETIMEDOUT and anything else as -EIO', () => {
    expect(usbipStatusOfError(new TimeoutError('x', 5))).toBe(-110);
    expect(usbipStatusOfError(new Error('bug'))).toBe(-5);
  });

  it('reads statuses as libusb does on Linux', () => {
    expect(transferOutcomeOfStatus(0)).toEqual({ kind: 'resolved', status: 'ok' });
    expect(transferOutcomeOfStatus(-121)).toEqual({ kind: 'resolved', status: 'ok' }); // -EREMOTEIO: short, completed
    expect(transferOutcomeOfStatus(-32)).toEqual({ kind: 'resolved', status: 'stall' });
    expect(transferOutcomeOfStatus(-75)).toEqual({ kind: 'resolved', status: 'babble' });
    expect(transferOutcomeOfStatus(-19)).toEqual({ kind: 'rejected', name: 'LIBUSB_TRANSFER_NO_DEVICE' });
    expect(transferOutcomeOfStatus(-108)).toEqual({ kind: 'rejected', name: 'LIBUSB_TRANSFER_NO_DEVICE' });
    expect(transferOutcomeOfStatus(-104)).toEqual({ kind: 'rejected', name: 'LIBUSB_TRANSFER_CANCELLED' });
    expect(transferOutcomeOfStatus(-2)).toEqual({ kind: 'rejected', name: 'LIBUSB_TRANSFER_CANCELLED' });
    expect(transferOutcomeOfStatus(-110)).toEqual({ kind: 'rejected', name: 'LIBUSB_TRANSFER_TIMED_OUT' });
    for (const s of [-71, -84, -62, -70, -63, -95, -5, 12345]) expect(transferOutcomeOfStatus(s)).toEqual({ kind: 'rejected', name: 'LIBUSB_TRANSFER_ERROR' });
    expect(requestErrorOfStatus(-32)).toBe('LIBUSB_ERROR_PIPE');
    expect(requestErrorOfStatus(-2)).toBe('LIBUSB_ERROR_NOT_FOUND');
    expect(requestErrorOfStatus(-19)).toBe('LIBUSB_ERROR_NO_DEVICE');
    expect(requestErrorOfStatus(-16)).toBe('LIBUSB_ERROR_BUSY');
    expect(requestErrorOfStatus(-71)).toBe('LIBUSB_ERROR_IO');
  });

  it.each([
    'LIBUSB_TRANSFER_NO_DEVICE',
    'LIBUSB_TRANSFER_TIMED_OUT',
    'LIBUSB_TRANSFER_CANCELLED',
    'LIBUSB_TRANSFER_ERROR',
  ] as const)('gives back %s after a round trip server → wire → client', (name) => {
    const status = usbipStatusOfError(new LibusbError({ op: 'bulkIn', errno: LIBUSB_TRANSFER[name], libusbName: name }));
    expect(transferOutcomeOfStatus(status)).toEqual({ kind: 'rejected', name });
  });

  it('names statuses for messages', () => {
    expect(describeUsbIpStatus(-32)).toBe('-EPIPE(-32)');
    expect(describeUsbIpStatus(0)).toBe('0');
    expect(describeUsbIpStatus(-9999)).toBe('-9999');
    expect(usbipStatus('ESHUTDOWN')).toBe(-108);
  });
});
