/**
 * Wires a complete simulated link for tests, benchmarks and the UsbHost contract: virtual clock, bus,
 * UFX function controller with a registry configuration, optional fake class driver, and the virtual host.
 * The rig (harness) builds the same pieces with the GenericUSBFn model instead of the fake driver.
 *
 * @example
 * await using link = await startSimLink({ speed: 'high' });
 * const dev = await link.host.open(link.info!);
 */
import type { UsbDeviceSpeed } from '../../../core/index.js';
import type { UrbSink } from '../../capture/index.js';
import { VirtualClock } from '../../clock/index.js';
import { loopbackFunctionConfig, type UsbFnRegistryConfig } from '../../config/index.js';
import { UfxDevice, type UfxDeviceOptions } from '../device-end/index.js';
import type { UsbDeviceInfo } from '../../../host-side/index.js';
import { FakeLoopbackClassDriver, type FakeLoopbackOptions } from './fake-loopback-class-driver.js';
import { SimUsbHost } from '../host-end/index.js';
import { VirtualBus } from '../bus/index.js';

export interface SimLinkOptions {
  /** Speed of both the port and the controller. Default 'high'. */
  readonly speed?: UsbDeviceSpeed | undefined;
  readonly config?: UsbFnRegistryConfig | undefined;
  /** Fake loopback class driver on interface 0; `false` for none (drive `ufx.link(n)` yourself). */
  readonly driver?: FakeLoopbackOptions | false | undefined;
  readonly urbSink?: UrbSink | undefined;
  readonly ufx?: Omit<UfxDeviceOptions, 'maxSpeed'> | undefined;
  /** Plug in and wait for enumeration. Default true. */
  readonly attach?: boolean | undefined;
  readonly clock?: VirtualClock | undefined;
}

export interface StartedSimLink extends AsyncDisposable {
  readonly clock: VirtualClock;
  readonly bus: VirtualBus;
  readonly ufx: UfxDevice;
  readonly host: SimUsbHost;
  readonly driver: FakeLoopbackClassDriver | undefined;
  /** The enumerated device (after attach). */
  readonly info: UsbDeviceInfo | undefined;
}

/**
 * Builds and (by default) attaches a simulated link, resolving once the host enumerated the device.
 * @throws TimeoutError when enumeration does not finish within 5 s of virtual time (the message carries
 * the enumeration error).
 */
export async function startSimLink(options: SimLinkOptions = {}): Promise<StartedSimLink> {
  const clock = options.clock ?? new VirtualClock();
  const speed = options.speed ?? 'high';
  const bus = new VirtualBus({ clock, portSpeed: speed, urbSink: options.urbSink });
  const ufx = new UfxDevice(bus, options.config ?? loopbackFunctionConfig(), { ...options.ufx, maxSpeed: speed });
  const driver = options.driver === false ? undefined : new FakeLoopbackClassDriver(ufx.link(ufx.resolved.interfaces[0]!.interfaceNumber), options.driver);
  const host = new SimUsbHost({ clock, ports: [bus] });
  let info: UsbDeviceInfo | undefined;
  if (options.attach ?? true) {
    bus.attach();
    const cfg = options.config ?? loopbackFunctionConfig();
    info = await host.waitForDevice({ vendorId: cfg.idVendor, productId: cfg.idProduct }, { timeoutMs: 5000 });
  }
  return {
    clock,
    bus,
    ufx,
    host,
    driver,
    info,
    async [Symbol.asyncDispose]() {
      await host.close();
    },
  };
}
