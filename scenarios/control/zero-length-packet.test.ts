/**
 * A control read whose data is an exact multiple of EP0's wMaxPacketSize (64 at high speed) but shorter
 * than wLength ends with a zero-length packet, so the host completes it at once with exactly that many
 * bytes instead of waiting for more (which would end in a timeout).
 * @see USB 2.0 §8.5.3.2 (a data stage ends with a short or zero-length packet); docs/reference/documented-vs-inferred.md#drv-append-zlp-ep0
 * (the ZLP rule on pipe 0); HLK "Windows USB Device" EP0 ZLP
 */
import { assumption, expect, param, phase, test, fillPattern } from '../../harness/index.js';
import type { UsbInResult } from '../../host-side/index.js';

const TIMEOUT_MS = 2000;

for (const bytes of [64, 128]) {
  test(`completes a ${bytes}-byte control read under a longer wLength with a zero-length packet`, async ({ agent, clock }) => {
    const data = new Uint8Array(bytes);
    fillPattern(data, bytes, 0);
    await agent.echoWrite(data);
    const wLength = bytes + 64;
    await param('bytes', bytes);
    await param('wLength', wLength);
    const start = clock.now();
    const outcome = await phase('ECHO_READ', () =>
      agent.echoRead(wLength, { timeoutMs: TIMEOUT_MS }).then(
        (r) => r,
        (e: unknown) => e,
      ),
    );
    const elapsedMs = clock.now() - start;
    // The service answers with a plain TRANSFER_IN on pipe 0; whether UFX then adds the ZLP itself is inferred.
    await assumption('link-control-zlp', 'UFX ends a control read shorter than wLength and a multiple of 64 with a zero-length packet', () => {
      expect(outcome).not.toBeInstanceOf(Error); // without the ZLP the host waits for more and times out
      expect(elapsedMs).toBeLessThan(TIMEOUT_MS / 10);
    });
    expect(outcome).toMatchObject({ status: 'ok' });
    const r = outcome as UsbInResult;
    expect([...r.data]).toEqual([...data]);
  });
}
