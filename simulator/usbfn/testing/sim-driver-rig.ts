/**
 * Wires a GenericUSBFn model over a {@link FakeUfxLink} to a {@link SimUsbFnPort} and a real
 * {@link ConfigManagerModel}, for the model's unit tests and the port contract test.
 */
import type { UsbFnRegistryConfig } from '../../config/index.js';
import { VirtualClock, SeededRandom } from '../../clock/index.js';
import { ConfigManagerModel } from '../../cm/index.js';
import { GenericUsbFnModel, type GenericUsbFnModelOptions } from '../generic-usbfn-model.js';
import { SimUsbFnPort } from '../sim-usbfn-port.js';
import { FakeUfxLink } from './fake-ufx-link.js';
import { FIXTURE_INSTANCE_ID, FIXTURE_INTERFACE_GUID, fixtureConfig } from './fixture-config.js';

export interface SimDriverRig {
  readonly clock: VirtualClock;
  readonly cm: ConfigManagerModel;
  readonly link: FakeUfxLink;
  readonly model: GenericUsbFnModel;
  readonly port: SimUsbFnPort;
  readonly instanceId: string;
  readonly interfaceGuid: string;
  /** The function's symbolic link (present in CM unless `present: false`). */
  symbolicLink: string;
  /** Adds the device instance to CM (again); returns the symbolic link. */
  addDevice(): string;
}

export function makeSimDriverRig(
  options: {
    config?: UsbFnRegistryConfig;
    model?: Partial<Omit<GenericUsbFnModelOptions, 'clock'>>;
    present?: boolean;
    seed?: number;
  } = {},
): SimDriverRig {
  const clock = new VirtualClock();
  const cm = new ConfigManagerModel({ clock, random: new SeededRandom(options.seed ?? 1) });
  const link = new FakeUfxLink(options.config ?? fixtureConfig());
  const model = new GenericUsbFnModel(link, { ...options.model, clock });
  const instanceId = FIXTURE_INSTANCE_ID;
  const port = new SimUsbFnPort({
    clock,
    cm,
    driverFor: (id) => (id.toUpperCase() === instanceId.toUpperCase() ? model : undefined),
  });
  const rig: SimDriverRig = {
    clock,
    cm,
    link,
    model,
    port,
    instanceId,
    interfaceGuid: model.pipes.identity.interfaceGuid || FIXTURE_INTERFACE_GUID,
    symbolicLink: '',
    addDevice() {
      const [symbolicLink] = cm.addDevice(instanceId, [{ classGuid: rig.interfaceGuid }]);
      rig.symbolicLink = symbolicLink!;
      return symbolicLink!;
    },
  };
  if (options.present ?? true) rig.addDevice();
  return rig;
}
