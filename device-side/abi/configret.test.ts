import { describe, expect, it } from 'vitest';
import { ConfigRetError } from '../../core/index.js';
import { CONFIGRET, NUM_CR_RESULTS, configRetError, configRetName } from './configret.js';

describe('CONFIGRET (cfgmgr32.h, docs/reference/errors.md#configret)', () => {
  it('has every value 0x00–0x3B and nothing else', () => {
    const values = new Set(Object.values(CONFIGRET));
    for (let v = 0; v < NUM_CR_RESULTS; v++) expect(values.has(v as never)).toBe(true);
    expect(Math.max(...values)).toBe(0x3b);
    expect(NUM_CR_RESULTS).toBe(0x3c);
  });

  it('has the values of cfgmgr32.h', () => {
    expect(CONFIGRET).toMatchObject({
      CR_SUCCESS: 0x00,
      CR_DEFAULT: 0x01,
      CR_OUT_OF_MEMORY: 0x02,
      CR_INVALID_POINTER: 0x03,
      CR_INVALID_FLAG: 0x04,
      CR_INVALID_DEVNODE: 0x05,
      CR_INVALID_DEVINST: 0x05,
      CR_NO_SUCH_DEVNODE: 0x0d,
      CR_NO_SUCH_DEVINST: 0x0d,
      CR_FAILURE: 0x13,
      CR_REMOVE_VETOED: 0x17,
      CR_BUFFER_SMALL: 0x1a,
      CR_NO_ARBITRATOR: 0x1b,
      CR_NO_REGISTRY_HANDLE: 0x1c,
      CR_REGISTRY_ERROR: 0x1d,
      CR_INVALID_DEVICE_ID: 0x1e,
      CR_INVALID_DATA: 0x1f,
      CR_INVALID_API: 0x20,
      CR_NO_SUCH_VALUE: 0x25,
      CR_NO_SUCH_REGISTRY_KEY: 0x2e,
      CR_INVALID_MACHINENAME: 0x2f,
      CR_REMOTE_COMM_FAILURE: 0x30,
      CR_MACHINE_UNAVAILABLE: 0x31,
      CR_NO_CM_SERVICES: 0x32,
      CR_ACCESS_DENIED: 0x33,
      CR_CALL_NOT_IMPLEMENTED: 0x34,
      CR_INVALID_PROPERTY: 0x35,
      CR_NO_SUCH_DEVICE_INTERFACE: 0x37,
      CR_INVALID_INDEX: 0x3a,
      CR_INVALID_STRUCTURE_SIZE: 0x3b,
    });
  });

  it('names values, preferring the DEVINST alias', () => {
    expect(configRetName(26)).toBe('CR_BUFFER_SMALL');
    expect(configRetName(0x0d)).toBe('CR_NO_SUCH_DEVINST');
    expect(configRetName(0x05)).toBe('CR_INVALID_DEVINST');
    expect(configRetName(0x37)).toBe('CR_NO_SUCH_DEVICE_INTERFACE');
    expect(configRetName(0x3c)).toBe('UNKNOWN_CONFIGRET');
  });

  it('configRetError builds a ConfigRetError with name, target and hint', () => {
    const err = configRetError('CM_Get_Device_Interface_ListW', 0x1a, { target: '{GUID}' });
    expect(err).toBeInstanceOf(ConfigRetError);
    expect(err).toMatchObject({ code: 'CONFIGRET', api: 'CM_Get_Device_Interface_ListW', cr: 26, crName: 'CR_BUFFER_SMALL' });
    expect(err.message).toMatch(/^\[CONFIGRET CR_BUFFER_SMALL\(26\)\] CM_Get_Device_Interface_ListW\(\{GUID\}\) failed: .*size/);
    expect(configRetError('CM_X', 0x13, { detail: 'why' }).message).toMatch(/failed: why$/);
  });
});
