import { describe, expect, it } from 'vitest';
import {
  CTL_CODE,
  FILE_DEVICE_UNKNOWN,
  FILE_READ_DATA,
  FILE_WRITE_DATA,
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT,
  IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX,
  IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET,
  IOCTL_GENERICUSBFN_GET_PIPE_STATE,
  IOCTL_GENERICUSBFN_REGISTER_USB_STRING,
  IOCTL_GENERICUSBFN_SET_PIPE_STATE,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  IOCTL_TABLE,
  METHOD_BUFFERED,
  METHOD_IN_DIRECT,
  METHOD_NEITHER,
  METHOD_OUT_DIRECT,
  ioctlInfo,
  ioctlName,
} from './ioctl-codes.js';

// docs/reference/ioctls.md#summary: name, fn, method, hex, decimal, completes.
const ROWS = [
  ['IOCTL_GENERICUSBFN_TRANSFER_IN', IOCTL_GENERICUSBFN_TRANSFER_IN, 0x03, 1, 0x0022c00d, 2277389, 'pending'],
  ['IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT', IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, 0x04, 1, 0x0022c011, 2277393, 'pending'],
  ['IOCTL_GENERICUSBFN_TRANSFER_OUT', IOCTL_GENERICUSBFN_TRANSFER_OUT, 0x05, 2, 0x0022c016, 2277398, 'pending'],
  ['IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN', IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, 0x06, 0, 0x0022c018, 2277400, 'pending'],
  ['IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT', IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, 0x07, 0, 0x0022c01c, 2277404, 'pending'],
  ['IOCTL_GENERICUSBFN_GET_CLASS_INFO', IOCTL_GENERICUSBFN_GET_CLASS_INFO, 0x08, 2, 0x0022c022, 2277410, 'immediate'],
  ['IOCTL_GENERICUSBFN_GET_PIPE_STATE', IOCTL_GENERICUSBFN_GET_PIPE_STATE, 0x09, 2, 0x0022c026, 2277414, 'immediate'],
  ['IOCTL_GENERICUSBFN_SET_PIPE_STATE', IOCTL_GENERICUSBFN_SET_PIPE_STATE, 0x0a, 1, 0x0022c029, 2277417, 'immediate'],
  ['IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS', IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, 0x0b, 0, 0x0022c02c, 2277420, 'immediate'],
  ['IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS', IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS, 0x0c, 0, 0x0022c030, 2277424, 'immediate'],
  ['IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION', IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, 0x0d, 2, 0x0022c036, 2277430, 'pending'],
  ['IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX', IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX, 0x0e, 2, 0x0022c03a, 2277434, 'immediate'],
  ['IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET', IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, 0x0f, 2, 0x0022c03e, 2277438, 'immediate'],
  ['IOCTL_GENERICUSBFN_REGISTER_USB_STRING', IOCTL_GENERICUSBFN_REGISTER_USB_STRING, 0x10, 1, 0x0022c041, 2277441, 'immediate'],
] as const;

describe('IOCTL codes (docs/reference/ioctls.md#summary)', () => {
  it('method, device type and access constants have the winioctl.h values', () => {
    expect([METHOD_BUFFERED, METHOD_IN_DIRECT, METHOD_OUT_DIRECT, METHOD_NEITHER]).toEqual([0, 1, 2, 3]);
    expect(FILE_DEVICE_UNKNOWN).toBe(0x22);
    expect(FILE_READ_DATA | FILE_WRITE_DATA).toBe(3);
  });

  it('CTL_CODE follows the winioctl.h formula and stays unsigned', () => {
    expect(CTL_CODE(0x22, 0x03, 1, 3)).toBe(0x0022c00d);
    expect(CTL_CODE(0xffff, 0xfff, 3, 3)).toBe(0xffffffff);
  });

  it.each(ROWS)('%s = hex and decimal of docs/reference/ioctls.md', (name, code, fn, method, hex, dec, completes) => {
    expect(code).toBe(hex);
    expect(code).toBe(dec);
    expect(code).toBe((0x0022c000 | (fn << 2) | method) >>> 0);
    const info = ioctlInfo(code);
    expect(info).toMatchObject({ name, code, function: fn, method, completes });
    expect(ioctlName(code)).toBe(name);
  });

  it('the table has exactly the fourteen IOCTLs with distinct codes', () => {
    expect(IOCTL_TABLE).toHaveLength(14);
    expect(new Set(IOCTL_TABLE.map((i) => i.code)).size).toBe(14);
  });

  it('buffer rules match docs/reference/ioctls.md', () => {
    const byName = (n: string) => IOCTL_TABLE.find((i) => i.name === n);
    for (const n of ['TRANSFER_IN', 'TRANSFER_IN_APPEND_ZERO_PKT', 'TRANSFER_OUT', 'CONTROL_STATUS_HANDSHAKE_IN', 'CONTROL_STATUS_HANDSHAKE_OUT', 'GET_PIPE_STATE', 'SET_PIPE_STATE']) {
      expect(byName(`IOCTL_GENERICUSBFN_${n}`)?.input).toEqual({ kind: 'exact', bytes: 4, struct: 'USBFNPIPEID' });
    }
    expect(byName('IOCTL_GENERICUSBFN_GET_CLASS_INFO')?.output).toMatchObject({ kind: 'atLeast', bytes: 748 });
    expect(byName('IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX')?.output).toMatchObject({ kind: 'atLeast', bytes: 748 });
    expect(byName('IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION')?.output).toMatchObject({ kind: 'atLeast', bytes: 12 });
    expect(byName('IOCTL_GENERICUSBFN_REGISTER_USB_STRING')?.input).toMatchObject({ kind: 'atLeast', bytes: 512 });
    expect(byName('IOCTL_GENERICUSBFN_SET_PIPE_STATE')?.outputAccess).toBe('read');
    expect(byName('IOCTL_GENERICUSBFN_TRANSFER_IN')?.outputAccess).toBe('read');
    expect(byName('IOCTL_GENERICUSBFN_TRANSFER_OUT')?.outputAccess).toBe('write');
    expect(byName('IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS')).toMatchObject({ input: { kind: 'none' }, output: { kind: 'none' } });
  });

  it('unknown codes get a hex fallback name and no info', () => {
    expect(ioctlName(0x220003)).toBe('IOCTL_0x00220003');
    expect(ioctlName(0xdeadbeef)).toBe('IOCTL_0xDEADBEEF');
    expect(ioctlInfo(0x220003)).toBeUndefined();
  });
});
