/**
 * Scripts for the fakes that make them answer like GenericUSBFn.sys and Configuration Manager in the
 * service's unit tests: a handle that activates (GET_CLASS_INFO answers, ACTIVATE_USB_BUS completes,
 * BUS_EVENT_NOTIFICATION pends until a test delivers an event), the CM_NOTIFY_EVENT_DATA of the
 * notifications, and a small class interface. Not a model of the driver: the simulator is.
 */
import { HarnessError } from '../../core/index.js';
import {
  CM_NOTIFY_ACTION,
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  encodeCmNotifyEventData,
  encodeUsbfnClassInformationPacket,
  encodeUsbfnNotification,
  type UsbfnClassInformationPacket,
  type UsbfnNotification,
  type UsbfnPipeInformation,
} from '../abi/index.js';
import type { FakeUsbFnFile, FakeUsbFnPort } from './fake-usbfn-port.js';

/** The InterfaceGUID the scripts use. */
export const TEST_INTERFACE_GUID = '{6E29B7D8-0A39-4A4F-9B1B-3C8C3A5E1B20}';

/** A symbolic link of {@link TEST_INTERFACE_GUID}'s class. */
export function testSymbolicLink(instance = 1): string {
  return `\\\\?\\USBFN#TEST#${instance}#${TEST_INTERFACE_GUID}`;
}

const bulk = (bEndpointAddress: number, pipeId: number, wMaxPacketSize: number): UsbfnPipeInformation => ({
  epDesc: { bLength: 7, bDescriptorType: 5, bEndpointAddress, bmAttributes: 0x02, wMaxPacketSize, bInterval: 0 },
  pipeId,
});

/** Interface 0 with bulk IN 0x81 (pipe 1) and bulk OUT 0x01 (pipe 2) at every speed. */
export const TEST_CLASS_INFO: UsbfnClassInformationPacket = {
  fullSpeed: { interfaceNumber: 0, pipes: [bulk(0x81, 1, 64), bulk(0x01, 2, 64)] },
  highSpeed: { interfaceNumber: 0, pipes: [bulk(0x81, 1, 512), bulk(0x01, 2, 512)] },
  superSpeed: { interfaceNumber: 0, pipes: [bulk(0x81, 1, 1024), bulk(0x01, 2, 1024)] },
  interfaceName: 'Test',
  interfaceGuid: TEST_INTERFACE_GUID,
};

/**
 * Makes `file` answer like a GenericUSBFn handle that activates: GET_CLASS_INFO returns `classInfo`,
 * ACTIVATE_USB_BUS completes, BUS_EVENT_NOTIFICATION stays pending (see {@link deliverBusEvent}). Queued
 * responses (`file.respond`) still come first, so a test can make one step fail or pend.
 */
export function scriptActivation(file: FakeUsbFnFile, classInfo: UsbfnClassInformationPacket = TEST_CLASS_INFO): FakeUsbFnFile {
  return file
    .onIoctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, () => ({ complete: true, bytes: encodeUsbfnClassInformationPacket(classInfo) }))
    .onIoctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, () => ({ complete: true }))
    .onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
}

/**
 * Completes the oldest pending BUS_EVENT_NOTIFICATION of `file` with `event`, as UFX does.
 * @throws HarnessError FAKE_SCRIPT when none is pending (the code under test keeps none outstanding).
 */
export function deliverBusEvent(file: FakeUsbFnFile, event: UsbfnNotification): void {
  const call = file.pending(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION)[0];
  if (call === undefined) {
    throw new HarnessError('FAKE_SCRIPT', `[FAKE_SCRIPT] no BUS_EVENT_NOTIFICATION pending on ${file.symbolicLink} to deliver '${event.type}' to`);
  }
  call.complete(encodeUsbfnNotification(event));
}

/** Delivers a DEVICEINTERFACE notification (arrival or removal of `link`) to every interface registration. */
export function notifyInterface(port: FakeUsbFnPort, action: 'arrival' | 'removal', link: string): number[] {
  const code = action === 'arrival' ? CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL : CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL;
  return port.notify('deviceInterface', code, encodeCmNotifyEventData({ filterType: 'deviceInterface', classGuid: TEST_INTERFACE_GUID, symbolicLink: link }));
}

/** The DEVICEHANDLE notifications by the cfgmgr32.h name without its prefix. */
export type HandleAction = 'QUERYREMOVE' | 'QUERYREMOVEFAILED' | 'REMOVEPENDING' | 'REMOVECOMPLETE' | 'CUSTOMEVENT';

/**
 * Delivers a DEVICEHANDLE notification to the registrations on `link`'s handles; returns the callbacks'
 * results (ERROR_CANCELLED vetoes a QUERYREMOVE). `custom` fills the CUSTOMEVENT's event data.
 */
export function notifyHandle(
  port: FakeUsbFnPort,
  link: string,
  action: HandleAction,
  custom: { eventGuid: string; data: Uint8Array; nameOffset: number } = { eventGuid: '{00000000-0000-0000-0000-000000000000}', data: new Uint8Array(0), nameOffset: -1 },
): number[] {
  const code = CM_NOTIFY_ACTION[`CM_NOTIFY_ACTION_DEVICE${action}`];
  return port.notify('deviceHandle', code, encodeCmNotifyEventData({ filterType: 'deviceHandle', ...custom }), link);
}
