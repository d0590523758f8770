/**
 * Answers one class setup packet on pipe 0 the way D-OV describes: a data stage through TRANSFER_IN or
 * TRANSFER_OUT on pipe 0, then a status handshake in the opposite direction, or a stall
 * (SET_PIPE_STATE(pipe 0, TRUE)).
 *
 * Everything on EP0 goes to the client's `ep0PipeId` (the `ep0PipeId` setting).
 *
 * @note No-data requests: the usbfnbase.h comment says CONTROL_STATUS_HANDSHAKE_OUT, but USB 2.0 §8.5.3
 * gives a no-data control transfer an IN status stage (the device sends the zero-length packet). Which one
 * is sent is the `statusHandshake` setting ({@link NoDataHandshake}).
 */
import { UsageError, type SetupPacket } from '../../core/index.js';
import { parseBmRequestType } from '../abi/index.js';
import type { UsbFnClient } from '../usbfn-client.js';
import type { SetupReply, UsbFunction } from './function-api.js';
import type { NoDataHandshake } from './no-data-handshake.js';

/** Resolves when the control transfer is answered; rejects with the client's Win32Error. */
export async function answerSetup(
  client: UsbFnClient,
  fn: UsbFunction,
  setup: SetupPacket,
  signal: AbortSignal | undefined,
  noDataHandshake: NoDataHandshake,
): Promise<void> {
  const opts = { signal };
  const ep0 = client.ep0PipeId;
  const direction = parseBmRequestType(setup.bmRequestType).direction;
  let reply: SetupReply;
  try {
    reply = fn.onSetup ? await fn.onSetup(setup) : { stage: 'stall' };
  } catch (err) {
    await client.setPipeState(ep0, true, opts);
    throw err;
  }
  const mismatch =
    (reply.stage === 'in' && (direction !== 'in' || setup.wLength === 0)) ||
    (reply.stage === 'out' && (direction !== 'out' || setup.wLength === 0));
  if (mismatch) {
    await client.setPipeState(ep0, true, opts);
    throw new UsageError(
      'SETUP_REPLY_MISMATCH',
      `function '${fn.name}' answered bRequest 0x${setup.bRequest.toString(16)} (${direction.toUpperCase()}, wLength ${setup.wLength}) ` +
        `with a '${reply.stage}' data stage; the request was stalled. Answer IN requests with stage 'in', OUT requests with ` +
        `data with stage 'out', and requests with wLength 0 with stage 'none'`,
      { bRequest: setup.bRequest, stage: reply.stage },
    );
  }
  switch (reply.stage) {
    case 'stall':
      await client.setPipeState(ep0, true, opts);
      return;
    case 'none':
      await noDataHandshake.send(client, signal);
      return;
    case 'in': {
      const data = reply.data.byteLength > setup.wLength ? reply.data.subarray(0, setup.wLength) : reply.data;
      await client.transferIn(ep0, data, opts);
      await client.handshakeOut(opts);
      return;
    }
    case 'out': {
      const buffer = new Uint8Array(setup.wLength);
      const n = await client.transferOut(ep0, buffer, opts);
      const verdict = await reply.onData(buffer.subarray(0, n));
      if (verdict === 'stall') await client.setPipeState(ep0, true, opts);
      else await client.handshakeIn(opts);
      return;
    }
  }
}
