/**
 * SimUsbFnPort runs the UsbFnPort contract suite (both sections): once over the scripted UFX link, once
 * over the whole simulated link (UFX model, virtual bus, SimUsbHost enumerating the device).
 */
import { describeUsbFnPortContract } from '../../device-side/usbfn-port.contract.js';
import { createSimulation } from '../simulation.js';
import { flush, makeSimDriverRig } from './testing/index.js';

describeUsbFnPortContract('SimUsbFnPort (scripted UFX link)', () => makeSimDriverRig({ present: false }).port, {
  withDriver: async () => {
    const rig = makeSimDriverRig();
    return {
      port: rig.port,
      interfaceClassGuid: rig.interfaceGuid,
      async configure() {
        rig.link.enumerate('high');
        await flush();
      },
    };
  },
});

describeUsbFnPortContract('SimUsbFnPort (simulated bus and host)', () => createSimulation({ powered: false, attached: false }).port, {
  withDriver: async () => {
    const sim = createSimulation({ attached: false });
    return {
      port: sim.port,
      interfaceClassGuid: sim.function().interfaceGuid,
      async configure() {
        sim.attach();
        await sim.host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 2000 });
      },
      dispose: () => sim.dispose(),
    };
  },
});
