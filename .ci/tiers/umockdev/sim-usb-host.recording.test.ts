/**
 * The recording half of the UsbHost contract on real libusb: runs the contract's replayable section on
 * SimUsbHost (the same rig as simulator/link/host-end/sim-usb-host.contract.test.ts: a simulated link with the
 * loopback class driver) and, per case, writes the usbmon capture of the case's URBs (relocated to the
 * umockdev device's bus/address, ZLP trailers split as NodeUsbHost submits them) and the transcript of
 * every call's outcome. node-usb-host.replay.test.ts then replays each capture into NodeUsbHost.
 *
 * Run by umockdev-tier.ts with USBFN_UMOCKDEV_CONTRACT_DIR set; not part of the unit project.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeUsbHostContract } from '../../../host-side/usb-host.contract.js';
import { UsbmonPcapWriter, startSimLink, TEST_FUNCTION_ENDPOINTS, TEST_FUNCTION_PID, TEST_FUNCTION_VID } from '../../../simulator/index.js';
import { CONTRACT_ENV, contractCaseFiles, REPLAY_SKIPPED_SECTIONS, requireEnv } from './contract-case-files.js';
import { Relocate, SplitZeroPacketUrbs, UrbGate } from './replay-urb-sinks.js';
import { TIER_BUS_NUMBER, TIER_DEVICE_ADDRESS, type TierSpeed } from './test-function-device.js';
import { TranscriptUsbHost } from './transcript-usb-host.js';

const dir = requireEnv(CONTRACT_ENV.dir, 'sim-usb-host.recording.test.ts');

for (const speed of ['full', 'high'] as const satisfies readonly TierSpeed[]) {
  const maxPacketSize = speed === 'full' ? 64 : 512;
  describeUsbHostContract(
    `SimUsbHost recording for umockdev (${speed} speed)`,
    async ({ title }) => {
      const files = contractCaseFiles(dir, speed, title);
      const capture = new UsbmonPcapWriter();
      const gate = new UrbGate(new Relocate(new SplitZeroPacketUrbs(capture, maxPacketSize), TIER_BUS_NUMBER, TIER_DEVICE_ADDRESS));
      // Enumerated before the gate opens: the replay starts from a configured device, as umockdev plays it.
      const link = await startSimLink({ speed, urbSink: gate });
      gate.open = true;
      const host = new TranscriptUsbHost(link.host);
      return {
        host,
        filter: { vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID },
        interfaceNumber: 0,
        bulkOut: TEST_FUNCTION_ENDPOINTS.BULK_OUT,
        bulkIn: TEST_FUNCTION_ENDPOINTS.BULK_IN,
        maxPacketSize,
        close: async () => {
          gate.open = false;
          await link.host.close();
          await mkdir(dirname(files.pcap), { recursive: true });
          await capture.writeFile(files.pcap);
          await writeFile(files.sim, JSON.stringify(host.entries, null, 1));
        },
      };
    },
    { skip: REPLAY_SKIPPED_SECTIONS },
  );
}
