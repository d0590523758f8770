import { describe, expect, it } from 'vitest';
import { Win32Error } from '../../core/index.js';
import { IOCTL_GENERICUSBFN_TRANSFER_IN } from './ioctl-codes.js';
import { NTSTATUS, WIN32_ERROR, WIN32_ERRORS_FROM_NT_WARNINGS, ntStatusName, ntStatusToWin32, win32Error, win32ErrorName } from './win32-errors.js';

// docs/reference/errors.md#win32-errors: Win32 name, value, NTSTATUS that maps to it (or null).
const ROWS: readonly (readonly [string, number, number | null])[] = [
  ['ERROR_SUCCESS', 0, 0x00000000],
  ['ERROR_INVALID_FUNCTION', 1, 0xc0000010],
  ['ERROR_FILE_NOT_FOUND', 2, 0xc0000034],
  ['ERROR_ACCESS_DENIED', 5, 0xc0000022],
  ['ERROR_INVALID_HANDLE', 6, 0xc0000008],
  ['ERROR_NOT_READY', 21, 0xc00000a3],
  ['ERROR_BAD_COMMAND', 22, 0xc0000184],
  ['ERROR_BAD_LENGTH', 24, 0xc0000004],
  ['ERROR_GEN_FAILURE', 31, 0xc0000001],
  ['ERROR_SHARING_VIOLATION', 32, 0xc0000043],
  ['ERROR_NOT_SUPPORTED', 50, 0xc00000bb],
  ['ERROR_DEV_NOT_EXIST', 55, 0xc00000c0],
  ['ERROR_INVALID_PARAMETER', 87, 0xc000000d],
  ['ERROR_SEM_TIMEOUT', 121, 0xc00000b5],
  ['ERROR_INSUFFICIENT_BUFFER', 122, 0xc0000023],
  ['ERROR_BUSY', 170, 0x80000011],
  ['ERROR_MORE_DATA', 234, 0x80000005],
  ['ERROR_OPERATION_ABORTED', 995, 0xc0000120],
  ['ERROR_IO_INCOMPLETE', 996, null],
  ['ERROR_IO_PENDING', 997, 0x00000103],
  ['ERROR_DEVICE_NOT_CONNECTED', 1167, 0xc000009d],
  ['ERROR_NOT_FOUND', 1168, null],
  ['ERROR_CANCELLED', 1223, null],
  ['ERROR_NO_SYSTEM_RESOURCES', 1450, 0xc000009a],
  ['ERROR_DEVICE_REMOVED', 1617, 0xc00002b6],
  ['ERROR_INVALID_USER_BUFFER', 1784, 0xc0000206],
];

describe('WIN32_ERROR and ntStatusToWin32 (docs/reference/errors.md#win32-errors)', () => {
  it.each(ROWS)('%s = %i', (name, value, status) => {
    expect((WIN32_ERROR as Record<string, number>)[name]).toBe(value);
    expect(win32ErrorName(value)).toBe(name);
    if (status !== null) {
      expect(ntStatusToWin32(status)).toBe(value);
      // Signed form (as an OVERLAPPED.Internal read as int32) maps the same.
      expect(ntStatusToWin32(status | 0)).toBe(value);
    }
  });

  it('has the extra values the harness names', () => {
    expect(WIN32_ERROR).toMatchObject({
      ERROR_PATH_NOT_FOUND: 3,
      ERROR_NO_SUCH_DEVICE: 433,
      WAIT_TIMEOUT: 258,
      ERROR_TIMEOUT: 1460,
    });
  });

  it('has the NTSTATUS values of docs/reference/errors.md', () => {
    expect(NTSTATUS).toMatchObject({
      STATUS_SUCCESS: 0,
      STATUS_PENDING: 0x103,
      STATUS_CANCELLED: 0xc0000120,
      STATUS_INVALID_PARAMETER: 0xc000000d,
      STATUS_INVALID_DEVICE_STATE: 0xc0000184,
      STATUS_BUFFER_TOO_SMALL: 0xc0000023,
      STATUS_BUFFER_OVERFLOW: 0x80000005,
      STATUS_INVALID_DEVICE_REQUEST: 0xc0000010,
      STATUS_DEVICE_REMOVED: 0xc00002b6,
      STATUS_DELETE_PENDING: 0xc0000056,
      STATUS_NO_SUCH_DEVICE: 0xc000000e,
      STATUS_UNSUCCESSFUL: 0xc0000001,
    });
    expect(ntStatusName(0xc0000120)).toBe('STATUS_CANCELLED');
    expect(ntStatusName(-1073741536)).toBe('STATUS_CANCELLED');
    expect(ntStatusName(0x12345)).toBe('UNKNOWN_NTSTATUS');
  });

  it('maps STATUS_NO_SUCH_DEVICE and STATUS_DELETE_PENDING per the Windows-checked Wine test', () => {
    expect(ntStatusToWin32(NTSTATUS.STATUS_NO_SUCH_DEVICE)).toBe(2);
    expect(ntStatusToWin32(NTSTATUS.STATUS_DELETE_PENDING)).toBe(5);
  });

  it('maps FACILITY_NTWIN32 statuses to their low word and unknown ones to ERROR_MR_MID_NOT_FOUND', () => {
    expect(ntStatusToWin32(0xc0070057)).toBe(0x57);
    expect(ntStatusToWin32(0xc0001234)).toBe(317);
  });

  it('names unknown values UNKNOWN_WIN32_ERROR', () => {
    expect(win32ErrorName(123456)).toBe('UNKNOWN_WIN32_ERROR');
  });
});

describe('win32Error', () => {
  it('builds a Win32Error with the resolved name, IOCTL name and target', () => {
    const cause = new Error('root');
    const err = win32Error('DeviceIoControl', 31, { ioctl: IOCTL_GENERICUSBFN_TRANSFER_IN, target: 'pipe 1', cause });
    expect(err).toBeInstanceOf(Win32Error);
    expect(err).toMatchObject({
      code: 'WIN32',
      api: 'DeviceIoControl',
      win32: 31,
      win32Name: 'ERROR_GEN_FAILURE',
      ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_IN',
      target: 'pipe 1',
    });
    expect(err.cause).toBe(cause);
    expect(err.message.startsWith('[WIN32 ERROR_GEN_FAILURE(31)] DeviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe 1) failed')).toBe(true);
  });

  it('uses the given detail, or a stock hint, or nothing', () => {
    expect(win32Error('CreateFileW', 2, { detail: 'custom' }).message).toMatch(/failed: custom$/);
    expect(win32Error('DeviceIoControl', 995).message).toMatch(/cancelled/);
    expect(win32Error('X', 123456).message).toBe('[WIN32 UNKNOWN_WIN32_ERROR(123456)] X() failed');
    expect(win32Error('DeviceIoControl', 87, { ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_OUT' }).ioctl).toBe(
      'IOCTL_GENERICUSBFN_TRANSFER_OUT',
    );
  });
});

describe('WIN32_ERRORS_FROM_NT_WARNINGS', () => {
  it('holds the Win32 errors of the NT warning statuses of the table (a completion packet still comes)', () => {
    expect([...WIN32_ERRORS_FROM_NT_WARNINGS].sort((a, b) => a - b)).toEqual([170, 234]);
  });
});
