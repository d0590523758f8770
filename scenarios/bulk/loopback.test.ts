/**
 * Bulk loopback: what the host writes to bulk OUT comes back byte-exact on bulk IN.
 * @see Microsoft HLK "Windows USB Device" loopback tests; Linux usbtest bulk cases
 */
import { expect, param, phase, test } from '../../harness/index.js';

test('echoes 512 bytes byte-exact', async ({ agent }) => {
  await param('bytes', 512);
  const result = await phase('loop back', () => agent.loopback(512, { seed: 1 }));
  expect(result).toMatchObject({ ok: true, bytesRead: 512, firstMismatch: -1 });
});
