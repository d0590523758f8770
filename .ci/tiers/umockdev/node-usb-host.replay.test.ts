/**
 * The replay half of the UsbHost contract on real libusb: runs inside `umockdev-run --device … --pcap …`
 * (started by umockdev-tier.ts, one case per run) and checks the contract on NodeUsbHost, whose libusb
 * talks to the emulated usbfs node that umockdev answers from the SimUsbHost run's capture. The transcript
 * it writes must equal the recording's (the tier compares them).
 *
 * The `timing` section is skipped with its reason: a capture cannot reproduce timing.
 */
import { writeFile } from 'node:fs/promises';
import { NodeUsbHost } from '../../../host-side/index.js';
import { describeUsbHostContract } from '../../../host-side/usb-host.contract.js';
import { TEST_FUNCTION_ENDPOINTS, TEST_FUNCTION_PID, TEST_FUNCTION_VID } from '../../../simulator/index.js';
import { CONTRACT_ENV, contractCaseFiles, parseSpeed, REPLAY_SKIPPED_SECTIONS, requireEnv } from './contract-case-files.js';
import { testFunctionDevice } from './test-function-device.js';
import { TranscriptUsbHost } from './transcript-usb-host.js';

const dir = requireEnv(CONTRACT_ENV.dir, 'node-usb-host.replay.test.ts');
const speed = parseSpeed(requireEnv(CONTRACT_ENV.replaySpeed, 'node-usb-host.replay.test.ts'));
const { interfaceNumber } = testFunctionDevice(speed);

describeUsbHostContract(
  `NodeUsbHost on umockdev replay (${speed} speed)`,
  async ({ title }) => {
    const files = contractCaseFiles(dir, speed, title);
    // No string reads while listing: they would be control transfers the capture does not contain.
    const node = await NodeUsbHost.create({ readStrings: false, pollIntervalMs: 50 });
    const host = new TranscriptUsbHost(node);
    return {
      host,
      filter: { vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID },
      interfaceNumber,
      bulkOut: TEST_FUNCTION_ENDPOINTS.BULK_OUT,
      bulkIn: TEST_FUNCTION_ENDPOINTS.BULK_IN,
      maxPacketSize: speed === 'full' ? 64 : 512,
      close: async () => {
        await node.close();
        await writeFile(files.node, JSON.stringify(host.entries, null, 1));
      },
    };
  },
  { skip: REPLAY_SKIPPED_SECTIONS },
);
