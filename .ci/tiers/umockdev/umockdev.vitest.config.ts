/**
 * Vitest config of the umockdev tier's contract runs (started by umockdev-tier.ts, never on its own):
 * - outside umockdev: the SimUsbHost recording run plus the tier's own unit tests;
 * - inside `umockdev-run` (USBFN_UMOCKDEV_REPLAY_SPEED set): only the NodeUsbHost replay file.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const replay = (process.env['USBFN_UMOCKDEV_REPLAY_SPEED'] ?? '') !== '';

export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  test: {
    include: replay ? ['.ci/tiers/umockdev/node-usb-host.replay.test.ts'] : ['.ci/tiers/umockdev/**/*.test.ts'],
    exclude: replay ? [] : ['.ci/tiers/umockdev/node-usb-host.replay.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: false,
  },
});
