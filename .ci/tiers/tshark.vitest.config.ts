/**
 * System-tool tier: usbmon captures written by simulator/capture decode in tshark (issue 3).
 * Run by .ci/run after `apt-get install -y tshark`: `npm run test:tshark`.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['.ci/tiers/tshark/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
