/**
 * The Wine tier's second half (`npm run test:wine`, .ci/wine/run.sh): the device agent contract suite, run
 * by Linux node against the real agent serving under Windows node in Wine on 127.0.0.1. run.sh starts the
 * agent and passes its URL and token in USBFN_HIL_WINE_AGENT_URL and USBFN_HIL_AGENT_TOKEN.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['.ci/wine/agent.contract.wine.test.ts'],
    // One agent, one lease at a time: the checks run in order.
    fileParallelism: false,
    // Windows node under Wine answers slower than a device; every wait still has its own bound.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
