/** SimUsbFnPort runs the UsbFnPort contract suite (both sections), over the scripted UFX link. */
import { describeUsbFnPortContract } from '../../device-side/usbfn-port.contract.js';
import { flush } from './testing/io-helpers.js';
import { makeSimDriverRig } from './testing/sim-driver-rig.js';

describeUsbFnPortContract('SimUsbFnPort', () => makeSimDriverRig({ present: false }).port, {
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
