import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import {
  CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES,
  CM_GET_DEVICE_INTERFACE_LIST_BITS,
  CM_GET_DEVICE_INTERFACE_LIST_PRESENT,
  CM_NOTIFY_ACTION,
  CM_NOTIFY_EVENT_DATA_SIZE,
  CM_NOTIFY_FILTER_FLAG_ALL_DEVICE_INSTANCES,
  CM_NOTIFY_FILTER_FLAG_ALL_INTERFACE_CLASSES,
  CM_NOTIFY_FILTER_SIZE,
  CM_NOTIFY_FILTER_TYPE,
  CM_NOTIFY_FILTER_VALID_FLAGS,
  MAX_DEVICE_ID_LEN,
  cmNotifyActionName,
  decodeCmNotifyEventData,
  decodeCmNotifyFilter,
  encodeCmNotifyEventData,
  encodeCmNotifyFilter,
} from './cm-notify.js';
import { AbiDecodeError } from './decode-error.js';

const GUID = '{01234567-89AB-CDEF-0123-456789ABCDEF}';
const GUID_BYTES = [0x67, 0x45, 0x23, 0x01, 0xab, 0x89, 0xef, 0xcd, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
const u32 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24];
const utf16z = (s: string): number[] => [...[...s].flatMap((c) => [c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8]), 0, 0];

describe('cfgmgr32 constants (docs/reference/configuration-manager.md#constants)', () => {
  it('has the header values', () => {
    expect([CM_NOTIFY_FILTER_FLAG_ALL_INTERFACE_CLASSES, CM_NOTIFY_FILTER_FLAG_ALL_DEVICE_INSTANCES, CM_NOTIFY_FILTER_VALID_FLAGS]).toEqual([1, 2, 3]);
    expect(CM_NOTIFY_FILTER_TYPE).toEqual({
      CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE: 0,
      CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE: 1,
      CM_NOTIFY_FILTER_TYPE_DEVICEINSTANCE: 2,
      CM_NOTIFY_FILTER_TYPE_MAX: 3,
    });
    expect([CM_GET_DEVICE_INTERFACE_LIST_PRESENT, CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES, CM_GET_DEVICE_INTERFACE_LIST_BITS]).toEqual([0, 1, 1]);
    expect(MAX_DEVICE_ID_LEN).toBe(200);
  });

  it('CM_NOTIFY_ACTION values and names', () => {
    expect(Object.entries(CM_NOTIFY_ACTION)).toEqual([
      ['CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL', 0],
      ['CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL', 1],
      ['CM_NOTIFY_ACTION_DEVICEQUERYREMOVE', 2],
      ['CM_NOTIFY_ACTION_DEVICEQUERYREMOVEFAILED', 3],
      ['CM_NOTIFY_ACTION_DEVICEREMOVEPENDING', 4],
      ['CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE', 5],
      ['CM_NOTIFY_ACTION_DEVICECUSTOMEVENT', 6],
      ['CM_NOTIFY_ACTION_DEVICEINSTANCEENUMERATED', 7],
      ['CM_NOTIFY_ACTION_DEVICEINSTANCESTARTED', 8],
      ['CM_NOTIFY_ACTION_DEVICEINSTANCEREMOVED', 9],
      ['CM_NOTIFY_ACTION_MAX', 10],
    ]);
    expect(cmNotifyActionName(2)).toBe('CM_NOTIFY_ACTION_DEVICEQUERYREMOVE');
    expect(cmNotifyActionName(42)).toBe('CM_NOTIFY_ACTION(42)');
  });
});

describe('CM_NOTIFY_FILTER (docs/reference/structs.md#cm-notify-filter)', () => {
  const header = (flags: number, type: number): number[] => [...u32(416), ...u32(flags), ...u32(type), ...u32(0)];

  it('is 416 bytes; DEVICEINTERFACE golden vector (ClassGuid @16)', () => {
    expect(CM_NOTIFY_FILTER_SIZE).toBe(416);
    const golden = new Uint8Array(416);
    golden.set([...header(0, 0), ...GUID_BYTES]);
    expect(encodeCmNotifyFilter({ type: 'deviceInterface', classGuid: GUID })).toEqual(golden);
    expect(decodeCmNotifyFilter(golden)).toEqual({ type: 'deviceInterface', classGuid: GUID });
  });

  it('DEVICEHANDLE golden vector (hTarget u64 @16 on x64)', () => {
    const golden = new Uint8Array(416);
    golden.set([...header(0, 1), 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
    const f = { type: 'deviceHandle', hTarget: 0x1122334455667788n } as const;
    expect(encodeCmNotifyFilter(f)).toEqual(golden);
    expect(decodeCmNotifyFilter(golden)).toEqual(f);
  });

  it('DEVICEINSTANCE golden vector (InstanceId[200] @16)', () => {
    const id = 'USBFN\\LOOP\\1';
    const golden = new Uint8Array(416);
    golden.set([...header(0, 2), ...utf16z(id)]);
    expect(encodeCmNotifyFilter({ type: 'deviceInstance', instanceId: id })).toEqual(golden);
    expect(decodeCmNotifyFilter(golden)).toEqual({ type: 'deviceInstance', instanceId: id });
  });

  it('encodes the ALL_* flags with their validity rules', () => {
    const all = encodeCmNotifyFilter({ type: 'deviceInterface', allInterfaceClasses: true });
    expect([...all.subarray(0, 16)]).toEqual(header(1, 0));
    expect(decodeCmNotifyFilter(all)).toEqual({ type: 'deviceInterface', classGuid: '{00000000-0000-0000-0000-000000000000}', allInterfaceClasses: true });
    const allInst = encodeCmNotifyFilter({ type: 'deviceInstance', allDeviceInstances: true });
    expect([...allInst.subarray(0, 16)]).toEqual(header(2, 2));
    expect(decodeCmNotifyFilter(allInst)).toEqual({ type: 'deviceInstance', instanceId: '', allDeviceInstances: true });
    expect(() => encodeCmNotifyFilter({ type: 'deviceInterface', classGuid: GUID, allInterfaceClasses: true })).toThrow(UsageError);
    expect(() => encodeCmNotifyFilter({ type: 'deviceInterface' })).toThrow(/classGuid/);
    expect(() => encodeCmNotifyFilter({ type: 'deviceInstance', instanceId: 'X', allDeviceInstances: true })).toThrow(UsageError);
    expect(() => encodeCmNotifyFilter({ type: 'deviceInstance' })).toThrow(/instanceId/);
    expect(() => encodeCmNotifyFilter({ type: 'deviceInstance', instanceId: 'x'.repeat(200) })).toThrow(UsageError);
    expect(() => encodeCmNotifyFilter({ type: 'deviceHandle', hTarget: -1n })).toThrow(UsageError);
  });

  it('decoding rejects what CM_Register_Notification would', () => {
    const good = encodeCmNotifyFilter({ type: 'deviceInterface', classGuid: GUID });
    const mutate = (off: number, v: number[]): Uint8Array => {
      const b = good.slice();
      b.set(v, off);
      return b;
    };
    expect(() => decodeCmNotifyFilter(good.subarray(0, 415))).toThrow(AbiDecodeError);
    expect(() => decodeCmNotifyFilter(mutate(0, u32(400)))).toThrow(/cbSize/);
    expect(() => decodeCmNotifyFilter(mutate(4, u32(4)))).toThrow(/Flags/);
    expect(() => decodeCmNotifyFilter(mutate(8, u32(3)))).toThrow(/FilterType/);
    expect(() => decodeCmNotifyFilter(mutate(12, u32(1)))).toThrow(/Reserved/);
    expect(() => decodeCmNotifyFilter(mutate(4, u32(1)))).toThrow(/ClassGuid/); // ALL_INTERFACE_CLASSES with a GUID
    expect(() => decodeCmNotifyFilter(mutate(4, u32(2)))).toThrow(/ALL_DEVICE_INSTANCES is valid only/);
    const inst = encodeCmNotifyFilter({ type: 'deviceInstance', instanceId: 'A' });
    inst.fill(0x41, 16, 416); // no NUL in 200 WCHARs
    expect(() => decodeCmNotifyFilter(inst)).toThrow(/NUL-terminated/);
  });
});

describe('CM_NOTIFY_EVENT_DATA (docs/reference/structs.md#cm-notify-event-data)', () => {
  it('has sizeof 36', () => {
    expect(CM_NOTIFY_EVENT_DATA_SIZE).toBe(36);
  });

  it('DEVICEINTERFACE golden vector: ClassGuid @8, SymbolicLink @24 past sizeof', () => {
    const link = '\\\\?\\USBFN#X#1#{GUID}';
    const golden = Uint8Array.from([...u32(0), ...u32(0), ...GUID_BYTES, ...utf16z(link)]);
    expect(golden.length).toBe(24 + (link.length + 1) * 2);
    const e = { filterType: 'deviceInterface', classGuid: GUID, symbolicLink: link } as const;
    expect(encodeCmNotifyEventData(e)).toEqual(golden);
    expect(decodeCmNotifyEventData(golden)).toEqual(e);
  });

  it('DEVICEHANDLE golden vector: EventGuid @8, NameOffset @24, DataSize @28, Data @32', () => {
    const golden = Uint8Array.from([...u32(1), ...u32(0), ...GUID_BYTES, ...u32(0xffffffff), ...u32(5), 1, 2, 3, 4, 5]);
    const e = { filterType: 'deviceHandle', eventGuid: GUID, nameOffset: -1, data: Uint8Array.of(1, 2, 3, 4, 5) } as const;
    expect(encodeCmNotifyEventData(e)).toEqual(golden);
    expect(decodeCmNotifyEventData(golden)).toEqual(e);
  });

  it('pads short events to sizeof 36', () => {
    const e = { filterType: 'deviceHandle', eventGuid: '{00000000-0000-0000-0000-000000000000}', nameOffset: 0, data: new Uint8Array(0) } as const;
    const bytes = encodeCmNotifyEventData(e);
    expect(bytes.length).toBe(36);
    expect(decodeCmNotifyEventData(bytes)).toEqual(e);
    const inst = encodeCmNotifyEventData({ filterType: 'deviceInstance', instanceId: 'A' });
    expect([...inst.subarray(0, 12)]).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 0]);
    expect(inst.length).toBe(36);
  });

  it('DEVICEINSTANCE golden vector: InstanceId @8', () => {
    const id = 'USBFN\\LOOPBACK\\5&1A2B3C&0&0';
    const golden = Uint8Array.from([...u32(2), ...u32(0), ...utf16z(id)]);
    expect(encodeCmNotifyEventData({ filterType: 'deviceInstance', instanceId: id })).toEqual(golden);
    expect(decodeCmNotifyEventData(golden)).toEqual({ filterType: 'deviceInstance', instanceId: id });
  });

  it('decodes a DEVICEHANDLE custom event with 0–3 data bytes delivered without padding (32 + DataSize bytes)', () => {
    for (const n of [0, 1, 2, 3]) {
      const data = Uint8Array.from({ length: n }, (_, i) => i + 1);
      const bytes = Uint8Array.from([...u32(1), ...u32(0), ...GUID_BYTES, ...u32(0xffffffff), ...u32(n), ...data]);
      expect(bytes.length).toBe(32 + n);
      expect(decodeCmNotifyEventData(bytes)).toEqual({ filterType: 'deviceHandle', eventGuid: GUID, nameOffset: -1, data });
    }
    // Below the 32-byte header, or DataSize past EventDataSize, it still fails.
    expect(() => decodeCmNotifyEventData(Uint8Array.from([...u32(1), ...u32(0), ...GUID_BYTES, ...u32(0)]))).toThrow(AbiDecodeError);
    expect(() => decodeCmNotifyEventData(Uint8Array.from([...u32(1), ...u32(0), ...GUID_BYTES, ...u32(0), ...u32(2), 9]))).toThrow(/DataSize/);
  });

  it('still needs sizeof (36) for the DEVICEINTERFACE and DEVICEINSTANCE arms', () => {
    const inst = new Uint8Array(35);
    inst.set(u32(2), 0);
    expect(() => decodeCmNotifyEventData(inst)).toThrow(AbiDecodeError);
  });

  it('rejects short data, unknown filter types, unterminated strings and overrunning DataSize', () => {
    expect(() => decodeCmNotifyEventData(new Uint8Array(35))).toThrow(AbiDecodeError);
    expect(() => decodeCmNotifyEventData(Uint8Array.from([...u32(3), ...new Array<number>(32).fill(0)]))).toThrow(/FilterType/);
    const unterminated = new Uint8Array(36).fill(0x41);
    unterminated.set(u32(0), 0);
    expect(() => decodeCmNotifyEventData(unterminated)).toThrow(/SymbolicLink/);
    const overrun = Uint8Array.from([...u32(1), ...u32(0), ...GUID_BYTES, ...u32(0), ...u32(10), 1, 2, 3, 4]);
    expect(() => decodeCmNotifyEventData(overrun)).toThrow(/DataSize/);
  });
});
