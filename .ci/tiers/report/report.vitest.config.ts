/**
 * Report tier (issue 15): the HTML report and a scenario's timeline checked in a real browser (headless
 * Chromium, Debian package `chromium`). Run by .ci/run after installing it: `npm run test:report`.
 *
 * Like the CLI tier it runs `usbfn-hil` from a fresh build and writes this checkout's reports/: one file at
 * a time, and not beside another run of the suite in the same checkout.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  test: {
    include: ['.ci/tiers/report/**/*.report.test.ts'],
    globalSetup: ['.ci/tiers/cli/fresh-build.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
  },
});
