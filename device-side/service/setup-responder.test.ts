/**
 * Unit tests of answerSetup: which pipe-0 IOCTLs answer each kind of reply (D-OV), over a scripted handle.
 */
import { ManualClock } from '../testing/index.js';
import { type SetupPacket } from '../../core/index.js';
import { describe, expect, it } from 'vitest';
import { IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, IOCTL_GENERICUSBFN_SET_PIPE_STATE, IOCTL_GENERICUSBFN_TRANSFER_IN, IOCTL_GENERICUSBFN_TRANSFER_OUT } from '../abi/index.js';
import { FakeUsbFnFile } from '../testing/index.js';
import { UsbFnClient } from '../usbfn-client.js';
import type { SetupReply, UsbFunction } from './function-api.js';
import { DeviceEventLog } from './device-event-log.js';
import { NoDataHandshake } from './no-data-handshake.js';
import { answerSetup } from './setup-responder.js';
import type { StatusHandshakeSetting } from '../driver-settings.js';

const handshake = (setting: StatusHandshakeSetting = 'auto', log = new DeviceEventLog(() => 0)): NoDataHandshake => new NoDataHandshake(setting, log);

const IN: SetupPacket = { bmRequestType: 0xa1, bRequest: 1, wValue: 0, wIndex: 0, wLength: 4 };
const OUT: SetupPacket = { bmRequestType: 0x21, bRequest: 2, wValue: 0, wIndex: 0, wLength: 3 };
const NO_DATA: SetupPacket = { bmRequestType: 0x21, bRequest: 3, wValue: 0, wIndex: 0, wLength: 0 };

function scripted(): FakeUsbFnFile {
  return new FakeUsbFnFile()
    .onIoctl(IOCTL_GENERICUSBFN_TRANSFER_IN, (c) => ({ complete: true, bytesReturned: c.outputBytes }))
    .onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ complete: true, bytes: Uint8Array.of(7, 8, 9) }))
    .onIoctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, () => ({ complete: true }))
    .onIoctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, () => ({ complete: true }))
    .onIoctl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, () => ({ complete: true }));
}

const fnWith = (reply: SetupReply | (() => SetupReply | Promise<SetupReply>)): UsbFunction => ({
  name: 'unit',
  onSetup: typeof reply === 'function' ? reply : () => reply,
});

async function answer(fn: UsbFunction, setup: SetupPacket, file = scripted()): Promise<{ names: string[]; file: FakeUsbFnFile }> {
  await answerSetup(new UsbFnClient(file), fn, setup, undefined, handshake());
  return { names: file.calls.map((c) => c.name.replace('IOCTL_GENERICUSBFN_', '')), file };
}

const pipe0 = (file: FakeUsbFnFile): boolean => file.calls.every((c) => c.input !== null && c.input.every((b) => b === 0));

describe('answerSetup', () => {
  it('IN data stage: TRANSFER_IN on pipe 0, then HANDSHAKE_OUT', async () => {
    const { names, file } = await answer(fnWith({ stage: 'in', data: Uint8Array.of(1, 2) }), IN);
    expect(names).toEqual(['TRANSFER_IN', 'CONTROL_STATUS_HANDSHAKE_OUT']);
    expect(pipe0(file)).toBe(true);
    expect([...file.calls[0]!.output!]).toEqual([1, 2]);
  });

  it('cuts IN data longer than wLength', async () => {
    const { file } = await answer(fnWith({ stage: 'in', data: Uint8Array.of(1, 2, 3, 4, 5, 6) }), IN);
    expect(file.calls[0]!.outputBytes).toBe(4);
  });

  it('OUT data stage: TRANSFER_OUT of wLength on pipe 0, onData sees the bytes, then HANDSHAKE_IN', async () => {
    let seen: number[] = [];
    const { names, file } = await answer(fnWith({ stage: 'out', onData: (d) => void (seen = [...d]) }), OUT);
    expect(names).toEqual(['TRANSFER_OUT', 'CONTROL_STATUS_HANDSHAKE_IN']);
    expect(file.calls[0]!.outputBytes).toBe(3);
    expect(seen).toEqual([7, 8, 9]);
  });

  it('OUT data stage whose onData returns stall: the status stage is a stall', async () => {
    const { names } = await answer(fnWith({ stage: 'out', onData: async () => 'stall' as const }), OUT);
    expect(names).toEqual(['TRANSFER_OUT', 'SET_PIPE_STATE']);
  });

  it('no data stage: HANDSHAKE_IN only (USB 2.0 §8.5.3: the device sends the status ZLP)', async () => {
    const { names } = await answer(fnWith({ stage: 'none' }), NO_DATA);
    expect(names).toEqual(['CONTROL_STATUS_HANDSHAKE_IN']);
  });

  it('sends every EP0 IOCTL to the client\'s ep0PipeId', async () => {
    const file = scripted();
    const client = new UsbFnClient(file);
    client.ep0PipeId = 7;
    await answerSetup(client, fnWith({ stage: 'in', data: Uint8Array.of(1) }), IN, undefined, handshake());
    await answerSetup(client, fnWith({ stage: 'none' }), NO_DATA, undefined, handshake());
    await answerSetup(client, fnWith({ stage: 'stall' }), IN, undefined, handshake());
    expect(file.calls.map((c) => [...c.input!])).toEqual([
      [7, 0, 0, 0],
      [7, 0, 0, 0],
      [7, 0, 0, 0],
      [7, 0, 0, 0],
    ]);
  });

  it('stall: SET_PIPE_STATE(pipe 0, TRUE); a function without onSetup stalls too', async () => {
    const { names, file } = await answer(fnWith({ stage: 'stall' }), IN);
    expect(names).toEqual(['SET_PIPE_STATE']);
    expect([...file.calls[0]!.output!]).toEqual([1]);
    expect((await answer({ name: 'silent' }, OUT)).names).toEqual(['SET_PIPE_STATE']);
  });

  it('awaits an asynchronous reply', async () => {
    const { names } = await answer(fnWith(async () => ({ stage: 'in', data: Uint8Array.of(1) })), IN);
    expect(names).toEqual(['TRANSFER_IN', 'CONTROL_STATUS_HANDSHAKE_OUT']);
  });

  it.each([
    ['an IN data stage for an OUT request', { stage: 'in', data: Uint8Array.of(1) } as const, OUT],
    ['an IN data stage for a request with wLength 0', { stage: 'in', data: Uint8Array.of(1) } as const, { ...IN, wLength: 0 }],
    ['an OUT data stage for an IN request', { stage: 'out', onData: () => undefined } as const, IN],
    ['an OUT data stage for a no-data request', { stage: 'out', onData: () => undefined } as const, NO_DATA],
  ])('stalls and rejects with SETUP_REPLY_MISMATCH for %s', async (_what, reply, setup) => {
    const file = scripted();
    await expect(answerSetup(new UsbFnClient(file), fnWith(reply), setup, undefined, handshake())).rejects.toMatchObject({
      name: 'UsageError',
      code: 'SETUP_REPLY_MISMATCH',
    });
    expect(file.calls.map((c) => c.code)).toEqual([IOCTL_GENERICUSBFN_SET_PIPE_STATE]);
  });

  it('stalls and rethrows when onSetup throws', async () => {
    const file = scripted();
    const boom = new Error('bad function');
    await expect(answerSetup(new UsbFnClient(file), fnWith(() => { throw boom; }), IN, undefined, handshake())).rejects.toBe(boom);
    expect(file.calls.map((c) => c.code)).toEqual([IOCTL_GENERICUSBFN_SET_PIPE_STATE]);
  });

  it('passes the driver failure through as the Win32Error', async () => {
    const file = scripted().respond(IOCTL_GENERICUSBFN_TRANSFER_IN, { fail: 31 });
    await expect(answerSetup(new UsbFnClient(file), fnWith({ stage: 'in', data: Uint8Array.of(1) }), IN, undefined, handshake())).rejects.toMatchObject({
      name: 'Win32Error',
      win32Name: 'ERROR_GEN_FAILURE',
      ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_IN',
    });
  });

  it('is cancelled through the signal (CancelIoEx → ERROR_OPERATION_ABORTED)', async () => {
    const file = scripted().respond(IOCTL_GENERICUSBFN_TRANSFER_OUT, { pending: true });
    const ac = new AbortController();
    const p = answerSetup(new UsbFnClient(file), fnWith({ stage: 'out', onData: () => undefined }), OUT, ac.signal, handshake());
    await Promise.resolve();
    await Promise.resolve();
    ac.abort();
    await expect(p).rejects.toMatchObject({ win32: 995 });
  });
});

describe('the statusHandshake setting (docs/reference/documented-vs-inferred.md#drv-no-data-handshake)', () => {
  /** A driver that refuses one handshake direction for no-data requests with `win32`. */
  const refusing = (refused: 'in' | 'out', win32 = 87): FakeUsbFnFile =>
    new FakeUsbFnFile()
      .onIoctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, () => (refused === 'in' ? { fail: win32 } : { complete: true }))
      .onIoctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, () => (refused === 'out' ? { fail: win32 } : { complete: true }));
  const names = (file: FakeUsbFnFile): string[] => file.calls.map((c) => c.name.replace('IOCTL_GENERICUSBFN_CONTROL_STATUS_', ''));

  it("'auto' falls back to HANDSHAKE_OUT when HANDSHAKE_IN is refused with 87, logs it once and prefers OUT from then on", async () => {
    const log = new DeviceEventLog(() => new ManualClock().now());
    const policy = handshake('auto', log);
    const file = refusing('in');
    const client = new UsbFnClient(file);
    await answerSetup(client, fnWith({ stage: 'none' }), NO_DATA, undefined, policy);
    await answerSetup(client, fnWith({ stage: 'none' }), NO_DATA, undefined, policy);
    expect(names(file)).toEqual(['HANDSHAKE_IN', 'HANDSHAKE_OUT', 'HANDSHAKE_OUT']);
    expect(policy.confirmed).toBe('out');
    expect(log.ofKind('noDataHandshake').map((e) => e.detail)).toEqual([
      { direction: 'out', setting: 'auto', fallbackFrom: 'in', refusedWith: 'ERROR_INVALID_PARAMETER' },
    ]);
    expect(log.ofKind('noDataHandshakeRefused')).toHaveLength(1);
  });

  it("'auto' falls back on ERROR_BAD_COMMAND (22) too, and keeps IN when IN works", async () => {
    const file = refusing('in', 22);
    await answerSetup(new UsbFnClient(file), fnWith({ stage: 'none' }), NO_DATA, undefined, handshake('auto'));
    expect(names(file)).toEqual(['HANDSHAKE_IN', 'HANDSHAKE_OUT']);
    const log = new DeviceEventLog(() => 0);
    const ok = refusing('out');
    await answerSetup(new UsbFnClient(ok), fnWith({ stage: 'none' }), NO_DATA, undefined, handshake('auto', log));
    expect(names(ok)).toEqual(['HANDSHAKE_IN']);
    expect(log.ofKind('noDataHandshake').map((e) => e.detail)).toEqual([{ direction: 'in', setting: 'auto' }]);
  });

  it("'auto' does not retry on other failures (e.g. ERROR_GEN_FAILURE) and passes the error through", async () => {
    const file = refusing('in', 31);
    await expect(answerSetup(new UsbFnClient(file), fnWith({ stage: 'none' }), NO_DATA, undefined, handshake('auto'))).rejects.toMatchObject({
      win32Name: 'ERROR_GEN_FAILURE',
    });
    expect(names(file)).toEqual(['HANDSHAKE_IN']);
  });

  it("'in' and 'out' send only their direction, also when the driver refuses it", async () => {
    const inFile = refusing('in');
    await expect(answerSetup(new UsbFnClient(inFile), fnWith({ stage: 'none' }), NO_DATA, undefined, handshake('in'))).rejects.toMatchObject({ win32: 87 });
    expect(names(inFile)).toEqual(['HANDSHAKE_IN']);
    const outFile = refusing('in');
    await answerSetup(new UsbFnClient(outFile), fnWith({ stage: 'none' }), NO_DATA, undefined, handshake('out'));
    expect(names(outFile)).toEqual(['HANDSHAKE_OUT']);
  });

  it('does not change the handshake after a data stage (always the opposite direction)', async () => {
    const file = scripted();
    await answerSetup(new UsbFnClient(file), fnWith({ stage: 'in', data: Uint8Array.of(1) }), IN, undefined, handshake('in'));
    expect(file.calls.map((c) => c.name)).toContain('IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT');
  });
});
