/**
 * The lab-in-a-box tier (docs/lab-in-a-box.md): device agents in containers, the harness's lab code against
 * them. Run by .ci/run through `npm run test:containers` (.ci/tiers/containers/run.sh starts Docker and makes
 * the image first; vitest alone stops at once with what to run instead).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  test: {
    include: ['.ci/tiers/containers/**/*.containers.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One box of containers, shared by the file's tests in order (one kills and reboots a bench).
    fileParallelism: false,
    env: {
      // No registry is reachable: Ryuk (testcontainers' reaper, an image it would pull) stays off and the
      // tests stop their own containers; with host networking the containers are at 127.0.0.1.
      TESTCONTAINERS_RYUK_DISABLED: 'true',
      TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1',
    },
  },
});
