import { describe, expect, it } from 'vitest';
import { ConfigRetError } from '../core/index.js';
import { CONFIGRET } from './abi/index.js';
import { listInterfaces } from './list-interfaces.js';
import { FakeUsbFnPort } from './testing/index.js';

const GUID = '{6E29B7D8-0A39-4A4F-9B1B-3C8C3A5E1B20}';
const q = { interfaceClassGuid: GUID };

describe('listInterfaces', () => {
  it('returns the symbolic links (size → list)', async () => {
    const port = new FakeUsbFnPort();
    port.interfaces = ['\\\\?\\USBFN#A#1#' + GUID, '\\\\?\\USBFN#B#1#' + GUID];
    expect(await listInterfaces(port, q)).toEqual(port.interfaces);
    expect([port.sizeQueries, port.listCalls]).toEqual([1, 1]);
  });

  it('returns [] for an empty list (size 1, a single NUL)', async () => {
    const port = new FakeUsbFnPort();
    expect(await listInterfaces(port, q)).toEqual([]);
  });

  it('loops on CR_BUFFER_SMALL while the list grows between the size query and the list call', async () => {
    const port = new FakeUsbFnPort();
    port.interfaces = ['L0'];
    port.onSizeQuery = (i) => {
      if (i < 2) port.interfaces.push(`L${i + 1}`); // grows after the first two size queries
    };
    expect(await listInterfaces(port, q)).toEqual(['L0', 'L1', 'L2']);
    expect([port.sizeQueries, port.listCalls]).toEqual([3, 3]);
  });

  it('gives up after maxAttempts with a CR_BUFFER_SMALL ConfigRetError chaining the last one', async () => {
    const port = new FakeUsbFnPort();
    port.onSizeQuery = (i) => port.interfaces.push(`L${i}`); // always grows
    const err: unknown = await listInterfaces(port, q, { maxAttempts: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigRetError);
    expect(err).toMatchObject({ crName: 'CR_BUFFER_SMALL', api: 'CM_Get_Device_Interface_ListW' });
    expect((err as ConfigRetError).message).toMatch(/still growing after 3/);
    expect((err as ConfigRetError).cause).toBeInstanceOf(ConfigRetError);
    expect(port.listCalls).toBe(3);
  });

  it('passes other CONFIGRET failures through unchanged', async () => {
    const port = new FakeUsbFnPort();
    port.failNext('CM_Get_Device_Interface_List_SizeW', CONFIGRET.CR_INVALID_DATA);
    await expect(listInterfaces(port, q)).rejects.toMatchObject({ crName: 'CR_INVALID_DATA', api: 'CM_Get_Device_Interface_List_SizeW' });
    port.failNext('CM_Get_Device_Interface_ListW', CONFIGRET.CR_FAILURE);
    await expect(listInterfaces(port, q)).rejects.toMatchObject({ crName: 'CR_FAILURE' });
  });
});
