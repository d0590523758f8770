/**
 * Runs inside `umockdev-run`: opens the device with NodeUsbHost (real libusb on the emulated usbfs node),
 * claims the interface, runs the operations and writes the results as JSON.
 *
 * Usage: node --import tsx replay-client.ts <ops.json> <vid> <pid> <interface> <results.json>
 */
import { readFile, writeFile } from 'node:fs/promises';
import { NodeUsbHost } from '../../../host-side/index.js';
import { opsFromJson, runOperations } from './replay-operations.js';

const [opsPath, vid, pid, iface, resultPath] = process.argv.slice(2);
if (opsPath === undefined || vid === undefined || pid === undefined || iface === undefined || resultPath === undefined) {
  console.error('usage: replay-client.ts <ops.json> <vid> <pid> <interface> <results.json>');
  process.exit(2);
}
const ops = opsFromJson(await readFile(opsPath, 'utf8'));
// No string reads while listing: they would be control transfers the capture does not contain.
const host = await NodeUsbHost.create({ readStrings: false });
try {
  const [info] = await host.listDevices({ vendorId: Number(vid), productId: Number(pid) });
  if (info === undefined) throw new Error(`device ${vid}:${pid} not visible to libusb under umockdev (check the description)`);
  const handle = await host.open(info);
  await handle.claimInterface(Number(iface));
  const results = await runOperations(handle, ops);
  await writeFile(resultPath, JSON.stringify({ device: info, results }, null, 2));
} finally {
  await host.close();
}
