/**
 * A driver error on a transfer reaches the device-side event log as the right typed Win32Error (error
 * value, name and IOCTL), is reported over USB by the test protocol, and does not stop the function (the failed buffer is queued again).
 * @see docs/reference/errors.md#win32-errors; docs/architecture.md#error-model (Win32Error);
 * docs/simulator.md#faults-the-sim-fixture (driver error)
 */
import { expect, param, phase, test } from '../../harness/index.js';
import type { DeviceLogEntry } from '../../device-side/index.js';

const ERROR_GEN_FAILURE = 31;
/** USBFN IOCTL function code of IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT (genericusbfnioctl.h). */
const TRANSFER_IN_APPEND_ZERO_PKT_FUNCTION = 0x04;
/** USBFN IOCTL function code of IOCTL_GENERICUSBFN_TRANSFER_OUT (genericusbfnioctl.h). */
const TRANSFER_OUT_FUNCTION = 0x05;
/** Bound on the loopbacks needed before the failed OUT buffer's turn comes (the loopback keeps a few queued). */
const MAX_ROUNDS = 16;

test('logs a failed TRANSFER_OUT on the device as ERROR_GEN_FAILURE with the IOCTL name', { tags: ['sim-only'] }, async ({ agent, device, sim }) => {
  sim.failNextIoctl('TRANSFER_OUT', ERROR_GEN_FAILURE);
  // The loopback keeps several TRANSFER_OUTs queued and takes their results in order: the one that failed
  // (submitted after the first echo) is seen once the buffers queued ahead of it have completed.
  let errors: DeviceLogEntry[] = [];
  let rounds = 0;
  await phase('loop back until the failed transfer surfaces', async () => {
    while (errors.length === 0 && rounds < MAX_ROUNDS) {
      const r = await agent.loopback(512, { seed: 5 + rounds });
      expect(r.ok).toBe(true);
      rounds++;
      errors = (await device.eventLog()).filter((e) => e.level === 'error');
    }
  });
  await param('loopbacks', rounds);
  expect(errors).toEqual([
    expect.objectContaining({
      error: expect.objectContaining({
        name: 'Win32Error',
        code: 'WIN32',
        data: expect.objectContaining({ win32: ERROR_GEN_FAILURE, win32Name: 'ERROR_GEN_FAILURE', ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_OUT' }),
      }),
    }),
  ]);
  // The function resubmitted the failed buffer: loopback goes on, with every OUT buffer back in the ring.
  for (let i = 0; i < MAX_ROUNDS / 4; i++) expect((await agent.loopback(1000, { seed: 40 + i })).ok).toBe(true);
  // And the device reports the failed receive over USB, so lab and sim assert it the same way.
  expect(await agent.getLastError()).toEqual({ win32: ERROR_GEN_FAILURE, ioctlFunction: TRANSFER_OUT_FUNCTION, name: 'ERROR_GEN_FAILURE' });
  expect((await agent.getCounters()).failedTransfers).toBe(1);
});

test("reports a failed echo's Win32 error and IOCTL over USB", { tags: ['sim-only'] }, async ({ agent, sim }) => {
  sim.failNextIoctl('TRANSFER_IN_APPEND_ZERO_PKT', ERROR_GEN_FAILURE);
  // The echo of this OUT transfer fails on the device, so nothing comes back on bulk IN.
  const w = await phase('bulk OUT whose echo fails', () => agent.handle.bulkOut(agent.bulkOutEndpoint, new Uint8Array(100)));
  expect(w).toEqual({ status: 'ok', bytesWritten: 100 });
  const last = await phase('GET_LAST_ERROR', () => agent.getLastError());
  expect(last).toEqual({ win32: ERROR_GEN_FAILURE, ioctlFunction: TRANSFER_IN_APPEND_ZERO_PKT_FUNCTION, name: 'ERROR_GEN_FAILURE' });
  expect((await agent.getCounters()).failedTransfers).toBe(1);
});
