/**
 * Answers one class setup packet on pipe 0 the way D-OV describes: a data stage through TRANSFER_IN or
 * TRANSFER_OUT on pipe 0, then a status handshake in the opposite direction, or a stall
 * (SET_PIPE_STATE(pipe 0, TRUE)).
 *
 * @note No-data requests: the usbfnbase.h comment says CONTROL_STATUS_HANDSHAKE_OUT, but USB 2.0 §8.5.3
 * gives a no-data control transfer an IN status stage (the device sends the zero-length packet). We send
 * HANDSHAKE_IN, following the USB spec (reference §6.2 lists the conflict as unresolved).
 */
import { UsageError, type SetupPacket } from '../../core/index.js';
import { parseBmRequestType } from '../abi/index.js';
import type { UsbFnClient } from '../usbfn-client.js';
import type { SetupReply, UsbFunction } from './function-api.js';

/** USBFNPIPEID of the default control pipe ("pipe 0", D-OV). */
export const EP0_PIPE_ID = 0;

/** Resolves when the control transfer is answered; rejects with the client's Win32Error. */
export async function answerSetup(
  client: UsbFnClient,
  fn: UsbFunction,
  setup: SetupPacket,
  signal: AbortSignal | undefined,
): Promise<void> {
  const opts = { signal };
  const direction = parseBmRequestType(setup.bmRequestType).direction;
  let reply: SetupReply;
  try {
    reply = fn.onSetup ? await fn.onSetup(setup) : { stage: 'stall' };
  } catch (err) {
    await client.setPipeState(EP0_PIPE_ID, true, opts);
    throw err;
  }
  const mismatch =
    (reply.stage === 'in' && (direction !== 'in' || setup.wLength === 0)) ||
    (reply.stage === 'out' && (direction !== 'out' || setup.wLength === 0));
  if (mismatch) {
    await client.setPipeState(EP0_PIPE_ID, true, opts);
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
      await client.setPipeState(EP0_PIPE_ID, true, opts);
      return;
    case 'none':
      await client.handshakeIn(opts);
      return;
    case 'in': {
      const data = reply.data.byteLength > setup.wLength ? reply.data.subarray(0, setup.wLength) : reply.data;
      await client.transferIn(EP0_PIPE_ID, data, opts);
      await client.handshakeOut(opts);
      return;
    }
    case 'out': {
      const buffer = new Uint8Array(setup.wLength);
      const n = await client.transferOut(EP0_PIPE_ID, buffer, opts);
      const verdict = await reply.onData(buffer.subarray(0, n));
      if (verdict === 'stall') await client.setPipeState(EP0_PIPE_ID, true, opts);
      else await client.handshakeIn(opts);
      return;
    }
  }
}
