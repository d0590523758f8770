/**
 * CLI tier (issue 15, "What a user meets first"): `usbfn-hil` run as a process, the way a user meets it
 * (`node harness/cli/bin.js …`, a fresh build as `npm ci` leaves it), with its exit codes and output checked.
 * Run by .ci/run: `npm run test:cli`.
 *
 * The commands write this checkout's reports/ (and the replay check a temporary scenario into scenarios/):
 * one file at a time, and not beside another run of the suite in the same checkout.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  test: {
    include: ['.ci/tiers/cli/**/*.cli.test.ts'],
    globalSetup: ['.ci/tiers/cli/fresh-build.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
