/**
 * One imported device on the client: the URB connection and what every handle opened on it shares
 * (descriptors, the configuration and alternate settings in use, interface claims), as node-usb shares one
 * libusb handle among the `UsbDeviceHandle`s of a device. A server serves one import per device, so all
 * handles of a {@link UsbIpUsbHost} on that device go through this one connection.
 */
import type { UsbTransferType } from '../../core/index.js';
import type { UsbDeviceInfo } from '../usb-host.js';
import { configurationByValue, endpointTypes, type DescriptorSet } from './usbip-descriptors.js';
import type { UsbIpUrbClient } from './usbip-urb-client.js';

/** What a handle needs from the import it belongs to. */
export class UsbIpImport {
  readonly urb: UsbIpUrbClient;
  /** Filled once the descriptors were read (right after the import, before the first handle is returned). */
  info: UsbDeviceInfo;
  descriptors: DescriptorSet | undefined;
  activeConfiguration: number;
  /** interface number → alternate setting in use. */
  readonly alternates = new Map<number, number>();
  /** interface number → handle that claimed it. */
  readonly claims = new Map<number, object>();
  /** Handles open on this import. */
  readonly handles = new Set<object>();
  /** Bumped whenever the configuration or an alternate setting changes (handles rebuild their endpoint tables). */
  version = 0;
  readonly #onEmpty: () => void;

  constructor(urb: UsbIpUrbClient, info: UsbDeviceInfo, activeConfiguration: number, onEmpty: () => void) {
    this.urb = urb;
    this.info = info;
    this.activeConfiguration = activeConfiguration;
    this.#onEmpty = onEmpty;
  }

  /** Interface numbers of the configuration in use. */
  interfaceNumbers(): number[] {
    const c = this.descriptors === undefined ? undefined : configurationByValue(this.descriptors, this.activeConfiguration);
    return c === undefined ? [] : [...new Set(c.interfaces.map((i) => i.bInterfaceNumber))];
  }

  /** Endpoint address → type for the given claimed interfaces at their current settings. */
  endpoints(claimed: ReadonlySet<number>): Map<number, UsbTransferType> {
    const c = this.descriptors === undefined ? undefined : configurationByValue(this.descriptors, this.activeConfiguration);
    return endpointTypes(c, this.alternates, claimed);
  }

  /** Whether `endpoint` belongs to an interface of the configuration in use (claimed or not). */
  hasEndpoint(endpoint: number): boolean {
    return this.endpoints(new Set(this.interfaceNumbers())).has(endpoint);
  }

  /** The alternate settings interface `n` offers. */
  alternateSettings(n: number): number[] {
    const c = this.descriptors === undefined ? undefined : configurationByValue(this.descriptors, this.activeConfiguration);
    return (c?.interfaces ?? []).filter((i) => i.bInterfaceNumber === n).map((i) => i.bAlternateSetting);
  }

  /** A handle closed: the connection closes with the last one. */
  handleClosed(handle: object): void {
    this.handles.delete(handle);
    for (const [n, owner] of this.claims) if (owner === handle) this.claims.delete(n);
    if (this.handles.size === 0) {
      this.urb.close();
      this.#onEmpty();
    }
  }
}
