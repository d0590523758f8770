/**
 * The bench's hardware pieces, built from the lab configuration: power control of the device's port
 * (`hotplug`) and a host capture of the device's bus per session (usbmon on Linux, USBPcap on Windows).
 * The capture finds the device's bus when a session starts; a device the host cannot see, or a host
 * without a capture tool, gives a capture that says why it is unavailable.
 */
import type { UsbDeviceFilter, UsbDeviceHandle, UsbHost } from '../../host-side/index.js';
import type { LabConfig } from './lab-config.js';
import { type CaptureOptions, type HostCaptureResult, type HostCaptureSource, createHostCaptureSource, UnavailableCaptureSource } from './capture/index.js';
import { type PowerControl, createPowerControl } from './power/index.js';

/** Power control for `hotplug`, or undefined when the bench has none. */
export function benchPower(config: LabConfig, host: () => Promise<UsbHost>): PowerControl | undefined {
  const hp = config.hotplug;
  if (hp.kind === 'none') return undefined;
  if (hp.kind === 'port-reset') {
    const filter: UsbDeviceFilter = { vendorId: config.device.vendorId, productId: config.device.productId, serialNumber: config.device.serialNumber };
    // A reset needs an open handle; this one is opened for the reset and closed by the power control.
    const getHandle = async (o: { signal?: AbortSignal | undefined; timeoutMs: number }): Promise<UsbDeviceHandle> => {
      const usb = await host();
      const info = await usb.waitForDevice(filter, { timeoutMs: o.timeoutMs, signal: o.signal });
      return usb.open(info, { timeoutMs: o.timeoutMs, signal: o.signal });
    };
    return createPowerControl({ kind: 'port-reset' }, { getHandle });
  }
  if (hp.kind === 'uhubctl') return createPowerControl({ kind: 'uhubctl', hub: hp.hub, port: hp.port });
  return createPowerControl({ kind: 'exec', off: [...hp.off], on: [...hp.on] });
}

/** A capture of the device's bus that resolves the bus number when it starts. */
class DeviceBusCapture implements HostCaptureSource {
  readonly #host: () => Promise<UsbHost>;
  readonly #filter: UsbDeviceFilter;
  #inner: HostCaptureSource | undefined;

  constructor(host: () => Promise<UsbHost>, filter: UsbDeviceFilter) {
    this.#host = host;
    this.#filter = filter;
  }

  async start(options?: CaptureOptions): Promise<void> {
    const usb = await this.#host();
    const [device] = await usb.listDevices(this.#filter);
    this.#inner =
      device === undefined
        ? new UnavailableCaptureSource('the device was not on this host when the session started, so its bus could not be chosen for the capture')
        : createHostCaptureSource({ device });
    await this.#inner.start(options);
  }

  async stop(options?: CaptureOptions): Promise<HostCaptureResult> {
    if (this.#inner === undefined) return { unavailable: 'the capture was never started' };
    return this.#inner.stop(options);
  }
}

/** A factory of per-session host captures for the device of `config`. */
export function benchCapture(config: LabConfig, host: () => Promise<UsbHost>): () => HostCaptureSource {
  const filter: UsbDeviceFilter = { vendorId: config.device.vendorId, productId: config.device.productId, serialNumber: config.device.serialNumber };
  return () => new DeviceBusCapture(host, filter);
}
