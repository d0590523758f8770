/**
 * System-tool tier: the USB/IP export checked by tools this project did not write — the Linux `usbip`
 * userland lists it, tshark's USB/IP dissector decodes a captured session (docs/usbip.md).
 * Run by .ci/run after `apt-get install -y usbip tshark`: `npm run test:usbip`.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  test: {
    include: ['.ci/tiers/usbip/**/*.usbip.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own export and captures on the loopback interface: one at a time.
    fileParallelism: false,
  },
});
