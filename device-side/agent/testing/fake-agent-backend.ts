/**
 * The `fake` backend of the device agent, for the agent's own tests: each session runs the real service
 * over a `FakeUsbFnPort` scripted like a device that enumerates at once — GET_CLASS_INFO answers a bulk
 * OUT 0x01 / IN 0x81 pair, ACTIVATE_USB_BUS completes, the first bus events are attach, reset (high speed)
 * and configured, then bus events and transfers stay pending (no host moves data).
 *
 * Settings (JSON, from the agent's backend settings): `present` (default true): the interface is listed;
 * `configure` (default true): the bus events above are delivered; `announceArrival` (default false): an
 * arrival notification follows each interface registration, as in the register-then-list race.
 */
import {
  CM_NOTIFY_ACTION,
  encodeCmNotifyEventData,
  encodeUsbfnClassInformationPacket,
  encodeUsbfnNotification,
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  normalizeGuid,
  type UsbfnClassInformationPacket,
} from '../../abi/index.js';
import { FakeUsbFnFile, FakeUsbFnPort } from '../../testing/index.js';
import type { CmNotifyListener, CmRegistration, GuidString, UsbFnFile } from '../../usbfn-port.js';
import type { AgentBackend, AgentBackendOptions, CreateAgentBackend } from '../agent-backend.js';

/** The fake function's interface instance, as Windows would name its symbolic link. */
export const FAKE_INSTANCE_ID = 'USBFN\\UsbfnHilLoopback\\5&1a2b3c&0&0';

const pipe = (bEndpointAddress: number, wMaxPacketSize: number, pipeId: number) => ({
  epDesc: { bLength: 7, bDescriptorType: 5, bEndpointAddress, bmAttributes: 2, wMaxPacketSize, bInterval: 0 },
  pipeId,
});

function classInfo(guid: string): UsbfnClassInformationPacket {
  return {
    fullSpeed: { interfaceNumber: 0, pipes: [pipe(0x01, 64, 1), pipe(0x81, 64, 2)] },
    highSpeed: { interfaceNumber: 0, pipes: [pipe(0x01, 512, 1), pipe(0x81, 512, 2)] },
    superSpeed: { interfaceNumber: 0, pipes: [pipe(0x01, 1024, 1), pipe(0x81, 1024, 2)] },
    interfaceName: 'UsbfnHilLoopback',
    interfaceGuid: guid,
  };
}

/** A FakeUsbFnPort whose every handle is scripted as an enumerating device. */
class ScriptedDevicePort extends FakeUsbFnPort {
  readonly #guid: string;
  readonly #configure: boolean;
  readonly #announceArrival: boolean;

  constructor(guid: string, settings: { present: boolean; configure: boolean; announceArrival: boolean }) {
    super();
    this.#guid = guid;
    this.#configure = settings.configure;
    this.#announceArrival = settings.announceArrival;
    if (settings.present) this.interfaces = [fakeSymbolicLink(guid)];
  }

  override async watchInterfaces(interfaceClassGuid: GuidString, listener: CmNotifyListener): Promise<CmRegistration> {
    const reg = await super.watchInterfaces(interfaceClassGuid, listener);
    if (this.#announceArrival && this.interfaces.length > 0) {
      const data = encodeCmNotifyEventData({ filterType: 'deviceInterface', classGuid: this.#guid, symbolicLink: this.interfaces[0]! });
      this.clock.setTimer(0, () => this.notify('deviceInterface', CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL, data));
    }
    return reg;
  }

  override async open(symbolicLink: string): Promise<UsbFnFile> {
    if (this.nextFiles.length === 0) this.nextFiles.push(this.#scriptedFile(symbolicLink));
    return super.open(symbolicLink);
  }

  #scriptedFile(link: string): FakeUsbFnFile {
    const file = new FakeUsbFnFile(link);
    file.respond(IOCTL_GENERICUSBFN_GET_CLASS_INFO, { complete: true, bytes: encodeUsbfnClassInformationPacket(classInfo(this.#guid)) });
    file.onIoctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, () => ({ complete: true }));
    if (this.#configure) {
      file.respond(
        IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
        { complete: true, bytes: encodeUsbfnNotification({ type: 'attach' }) },
        { complete: true, bytes: encodeUsbfnNotification({ type: 'reset', busSpeed: 2 }) },
        { complete: true, bytes: encodeUsbfnNotification({ type: 'configured', configurationValue: 1 }) },
      );
    }
    for (const code of [IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, IOCTL_GENERICUSBFN_TRANSFER_OUT, IOCTL_GENERICUSBFN_TRANSFER_IN, IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT]) {
      file.onIoctl(code, () => ({ pending: true }));
    }
    return file;
  }
}

/** `\\?\USBFN#UsbfnHilLoopback#5&1a2b3c&0&0#{guid}`. */
export function fakeSymbolicLink(guid: string): string {
  return `\\\\?\\${FAKE_INSTANCE_ID.replaceAll('\\', '#')}#${guid}`;
}

const flag = (settings: Readonly<Record<string, unknown>>, name: string, fallback: boolean): boolean =>
  typeof settings[name] === 'boolean' ? (settings[name] as boolean) : fallback;

export const createAgentBackend: CreateAgentBackend = async (options: AgentBackendOptions): Promise<AgentBackend> => {
  const guid = normalizeGuid(options.interfaceClassGuid);
  const settings = {
    present: flag(options.settings, 'present', true),
    configure: flag(options.settings, 'configure', true),
    announceArrival: flag(options.settings, 'announceArrival', false),
  };
  return {
    name: 'fake',
    async openSession() {
      const port = new ScriptedDevicePort(guid, settings);
      return { port, interfaceClassGuid: guid, close: async () => undefined };
    },
    async probe() {
      return { interfaceGuid: guid, present: settings.present, symbolicLink: settings.present ? fakeSymbolicLink(guid) : null };
    },
    async close() {},
  };
};
