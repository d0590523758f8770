import { describe, expect, it } from 'vitest';
import { TEST_REQUEST } from '../../../core/index.js';
import { classInterface } from '../../../host-side/index.js';
import { startSimLink, TEST_FUNCTION_PID, TEST_FUNCTION_VID } from '../../../simulator/index.js';
import { TranscriptUsbHost } from './transcript-usb-host.js';

describe('TranscriptUsbHost', () => {
  it('records outcomes as plain data and passes results and errors through unchanged', async () => {
    await using link = await startSimLink({ speed: 'full' });
    const host = new TranscriptUsbHost(link.host);
    const info = await host.waitForDevice({ vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID, serialNumber: undefined }, { timeoutMs: 1000 });
    const dev = await host.open(info);
    await dev.controlOut(classInterface(0, TEST_REQUEST.ECHO_WRITE), Uint8Array.of(0xab, 0xcd));
    const back = await dev.controlIn(classInterface(0, TEST_REQUEST.ECHO_READ), 8);
    expect(back.data).toEqual(Uint8Array.of(0xab, 0xcd));
    const err = await dev.claimInterface(0xfe).catch((e: unknown) => e);
    expect(err).toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
    await dev.close();

    const device = { vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID, deviceVersion: info.deviceVersion, speed: 'full', interfaces: info.interfaces };
    expect(host.entries).toEqual([
      { call: 'waitForDevice({"vendorId":4617,"productId":1})', outcome: device },
      { call: 'open', outcome: device },
      { call: 'controlOut(class interface 0x7 wValue 0x0 wIndex 0x0, abcd)', outcome: { status: 'ok', bytesWritten: 2 } },
      { call: 'controlIn(class interface 0x8 wValue 0x0 wIndex 0x0, 8)', outcome: { status: 'ok', length: 2, data: 'abcd' } },
      { call: 'claimInterface(254)', outcome: { error: 'LibusbError', code: 'LIBUSB', libusbName: 'LIBUSB_ERROR_NOT_FOUND', endpoint: undefined } },
      { call: 'close', outcome: 'ok' },
    ]);
    expect(JSON.parse(JSON.stringify(host.entries))).toEqual(host.entries.map((e) => JSON.parse(JSON.stringify(e)) as unknown));
  });
});
