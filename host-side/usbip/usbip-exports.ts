/**
 * What a USB/IP server exports: the devices of a {@link UsbHost} that match a filter, each with the
 * descriptors its `OP_REP_DEVLIST` record and its imports need (read once through the host, then kept
 * for as long as the device stays attached), and which of them a client has imported.
 */
import type { UsbSpeed } from '../../core/index.js';
import type { DeviceDescriptor } from '../descriptors/index.js';
import type { UsbDeviceFilter, UsbDeviceInfo, UsbHost } from '../usb-host.js';
import { configurationByValue, interfaceRecords, readActiveConfiguration, readDescriptorSet, type DescriptorSet } from './usbip-descriptors.js';
import type { UsbIpExportedDevice } from './usbip-op-codec.js';
import { USB_SPEED, USBIP_BYTES } from './usbip-protocol.js';

/** One exported device. */
export interface UsbIpExport {
  readonly info: UsbDeviceInfo;
  /** The id clients import it by (`UsbDeviceInfo.id` when it fits the 31-byte field). */
  readonly busid: string;
  readonly descriptors: DescriptorSet;
  /** bConfigurationValue in use (updated when an importer selects another). */
  activeConfiguration: number;
}

const SPEED_CODE: Readonly<Record<UsbSpeed, number>> = {
  low: USB_SPEED.USB_SPEED_LOW,
  full: USB_SPEED.USB_SPEED_FULL,
  high: USB_SPEED.USB_SPEED_HIGH,
  super: USB_SPEED.USB_SPEED_SUPER,
};

/** The busid for `info`: its id when it is printable ASCII that fits `busid[32]`, else `<bus>-<address>`. */
export function busidOf(info: UsbDeviceInfo): string {
  return /^[\x21-\x7e]+$/.test(info.id) && info.id.length < USBIP_BYTES.BUSID ? info.id : `${info.busNumber}-${info.deviceAddress}`;
}

/** The `OP_REP_DEVLIST` entry of an export (its `usbip_usb_device` and interface records). */
export function exportedDeviceRecord(e: UsbIpExport, backend: string): UsbIpExportedDevice {
  const dd: DeviceDescriptor = e.descriptors.deviceDescriptor;
  const interfaces = interfaceRecords(configurationByValue(e.descriptors, e.activeConfiguration));
  return {
    path: `/usbfn-hil/${backend}/${e.busid}`.slice(0, USBIP_BYTES.PATH - 1),
    busid: e.busid,
    busnum: e.info.busNumber,
    devnum: e.info.deviceAddress,
    speed: SPEED_CODE[e.info.speed] ?? USB_SPEED.USB_SPEED_UNKNOWN,
    idVendor: dd.idVendor,
    idProduct: dd.idProduct,
    bcdDevice: dd.bcdDevice,
    bDeviceClass: dd.bDeviceClass,
    bDeviceSubClass: dd.bDeviceSubClass,
    bDeviceProtocol: dd.bDeviceProtocol,
    bConfigurationValue: e.activeConfiguration,
    bNumConfigurations: dd.bNumConfigurations,
    bNumInterfaces: interfaces.length,
    interfaces,
  };
}

/** The exported devices of one server. */
export class UsbIpExports {
  readonly host: UsbHost;
  readonly #filter: UsbDeviceFilter;
  readonly #timeoutMs: number;
  /** By `UsbDeviceInfo.id`: the descriptor read in progress or done. */
  readonly #cache = new Map<string, Promise<UsbIpExport>>();
  /** busids imported now. */
  readonly #imported = new Set<string>();

  constructor(host: UsbHost, filter: UsbDeviceFilter, timeoutMs: number) {
    this.host = host;
    this.#filter = filter;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * The exported devices attached now. A device whose descriptors cannot be read is left out and reported
   * through `onSkip` (it cannot be described, so it cannot be exported).
   */
  async list(onSkip?: (info: UsbDeviceInfo, err: unknown) => void): Promise<UsbIpExport[]> {
    const infos = await this.host.listDevices(this.#filter);
    const live = new Set(infos.map((i) => i.id));
    for (const id of [...this.#cache.keys()]) if (!live.has(id)) this.#cache.delete(id);
    const out: UsbIpExport[] = [];
    for (const info of infos) {
      try {
        out.push(await this.#describe(info));
      } catch (err) {
        this.#cache.delete(info.id);
        onSkip?.(info, err);
      }
    }
    return out;
  }

  /** The export with `busid`, or undefined. */
  async find(busid: string, onSkip?: (info: UsbDeviceInfo, err: unknown) => void): Promise<UsbIpExport | undefined> {
    return (await this.list(onSkip)).find((e) => e.busid === busid);
  }

  /** Marks `busid` imported; false when it already is (one importer at a time, as Linux's stub). */
  markImported(busid: string): boolean {
    if (this.#imported.has(busid)) return false;
    this.#imported.add(busid);
    return true;
  }

  unmarkImported(busid: string): void {
    this.#imported.delete(busid);
  }

  /** Drops what is known about a device (it detached or re-enumerated). */
  forget(id: string): void {
    this.#cache.delete(id);
  }

  #describe(info: UsbDeviceInfo): Promise<UsbIpExport> {
    let p = this.#cache.get(info.id);
    if (p === undefined) {
      p = this.#read(info);
      this.#cache.set(info.id, p);
    }
    return p;
  }

  async #read(info: UsbDeviceInfo): Promise<UsbIpExport> {
    const handle = await this.host.open(info, { timeoutMs: this.#timeoutMs });
    try {
      const options = { timeoutMs: this.#timeoutMs };
      const descriptors = await readDescriptorSet(handle, options);
      const activeConfiguration = await readActiveConfiguration(handle, options);
      return { info, busid: busidOf(info), descriptors, activeConfiguration };
    } finally {
      await handle.close();
    }
  }
}
