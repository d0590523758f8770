import { describe, expect, it } from 'vitest';
import {
  KREGMANUSBFNENUMPATH,
  KREGUSBFNENUMPATH,
  MAX_ALTERNATE_NAME_LENGTH,
  MAX_ASSOCIATION_NAME_LENGTH,
  MAX_CONFIGURATION_NAME_LENGTH,
  MAX_INTERFACE_GUID_LENGTH,
  MAX_INTERFACE_GUID_SIZE,
  MAX_INTERFACE_NAME_LENGTH,
  MAX_NUM_USBFN_ENDPOINTS,
  MAX_NUM_USBFN_PIPES,
  MAX_SUPPORTED_CONFIGURATIONS,
  MAX_USB_STRING_LENGTH,
  UREGMANUSBFNENUMPATH,
  UREGUSBFNENUMPATH,
  USBFN_BUS_SPEED,
  USBFN_DEVICE_STATE,
  USBFN_DIRECTION,
  USBFN_EVENT,
  USBFN_INTERRUPT_ENDPOINT_SIZE_NOT_UPDATEABLE_MASK,
  USBFN_PORT_TYPE,
  USB_TEST_MODE_TEST_FORCE_ENABLE,
  USB_TEST_MODE_TEST_J,
  USB_TEST_MODE_TEST_K,
  USB_TEST_MODE_TEST_PACKET,
  USB_TEST_MODE_TEST_SE0_NAK,
  busSpeedName,
  busSpeedValue,
  usbfnEventName,
} from './usbfn-types.js';

describe('usbfnbase.h constants (docs/reference/structs.md#constants)', () => {
  it('has the header values', () => {
    expect(MAX_NUM_USBFN_ENDPOINTS).toBe(15);
    expect(MAX_NUM_USBFN_PIPES).toBe(16);
    expect(2 * MAX_NUM_USBFN_PIPES).toBe(32); // a number here, not the C macro that gives 31
    expect(MAX_CONFIGURATION_NAME_LENGTH).toBe(40);
    expect(MAX_USB_STRING_LENGTH).toBe(255);
    expect(MAX_SUPPORTED_CONFIGURATIONS).toBe(12);
    expect([MAX_INTERFACE_NAME_LENGTH, MAX_ALTERNATE_NAME_LENGTH, MAX_ASSOCIATION_NAME_LENGTH]).toEqual([40, 40, 40]);
    expect(MAX_INTERFACE_GUID_SIZE).toBe(78);
    expect(MAX_INTERFACE_GUID_SIZE).toBe(('{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}'.length + 1) * 2);
    expect(MAX_INTERFACE_GUID_LENGTH).toBe(39);
    expect(USBFN_INTERRUPT_ENDPOINT_SIZE_NOT_UPDATEABLE_MASK).toBe(0x80);
    expect([
      USB_TEST_MODE_TEST_J,
      USB_TEST_MODE_TEST_K,
      USB_TEST_MODE_TEST_SE0_NAK,
      USB_TEST_MODE_TEST_PACKET,
      USB_TEST_MODE_TEST_FORCE_ENABLE,
    ]).toEqual([1, 2, 3, 4, 5]);
  });

  it('has the registry paths', () => {
    expect(KREGUSBFNENUMPATH).toBe('\\Registry\\Machine\\SYSTEM\\CurrentControlSet\\Control\\USBFN\\');
    expect(UREGUSBFNENUMPATH).toBe('HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\USBFN\\');
    expect(KREGMANUSBFNENUMPATH).toBe(KREGUSBFNENUMPATH.replace('USBFN\\', 'ManufacturingMode\\Current\\USBFN\\'));
    expect(UREGMANUSBFNENUMPATH).toBe(UREGUSBFNENUMPATH.replace('USBFN\\', 'ManufacturingMode\\Current\\USBFN\\'));
  });
});

describe('usbfnbase.h enums (docs/reference/structs.md#enums)', () => {
  it('USBFN_EVENT', () => {
    expect(Object.entries(USBFN_EVENT)).toEqual([
      ['UsbfnEventMinimum', 0],
      ['UsbfnEventAttach', 1],
      ['UsbfnEventReset', 2],
      ['UsbfnEventDetach', 3],
      ['UsbfnEventSuspend', 4],
      ['UsbfnEventResume', 5],
      ['UsbfnEventSetupPacket', 6],
      ['UsbfnEventConfigured', 7],
      ['UsbfnEventUnConfigured', 8],
      ['UsbfnEventPortType', 9],
      ['UsbfnEventBusTearDown', 10],
      ['UsbfnEventSetInterface', 11],
      ['UsbfnEventMaximum', 12],
    ]);
    expect(usbfnEventName(6)).toBe('UsbfnEventSetupPacket');
    expect(usbfnEventName(99)).toBe('UsbfnEvent(99)');
  });

  it('USBFN_BUS_SPEED and busSpeedName', () => {
    expect(USBFN_BUS_SPEED).toEqual({
      UsbfnBusSpeedLow: 0,
      UsbfnBusSpeedFull: 1,
      UsbfnBusSpeedHigh: 2,
      UsbfnBusSpeedSuper: 3,
      UsbfnBusSpeedMaximum: 4,
    });
    expect([0, 1, 2, 3, 4, 7].map(busSpeedName)).toEqual(['low', 'full', 'high', 'super', 'unknown(4)', 'unknown(7)']);
    expect(busSpeedValue('high')).toBe(2);
    expect(busSpeedValue('super')).toBe(3);
  });

  it('USBFN_PORT_TYPE, USBFN_DIRECTION, USBFN_DEVICE_STATE', () => {
    expect(Object.values(USBFN_PORT_TYPE)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(USBFN_PORT_TYPE.UsbfnProprietaryDedicatedChargingPort).toBe(5);
    expect(USBFN_DIRECTION).toEqual({
      UsbfnDirectionMinimum: 0,
      UsbfnDirectionIn: 1,
      UsbfnDirectionOut: 2,
      UsbfnDirectionTx: 1,
      UsbfnDirectionRx: 2,
      UsbfnDirectionMaximum: 3,
    });
    expect(Object.values(USBFN_DEVICE_STATE)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(USBFN_DEVICE_STATE.UsbfnDeviceStateConfigured).toBe(5);
    expect(USBFN_DEVICE_STATE.UsbfnDeviceStateStateMaximum).toBe(7);
  });
});
