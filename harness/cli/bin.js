#!/usr/bin/env node
// The `usbfn-hil` command. An installed package runs the build (dist/, plain node: `npm run build`, done by
// `npm pack`); a checkout without a build runs the TypeScript sources through tsx (a devDependency).
// USBFN_HIL_FROM_SOURCE=1 runs the sources even when a build is present (a checkout with a stale dist/).
/* global URL */
import { existsSync } from 'node:fs';

const built = new URL('../../dist/harness/cli/main.js', import.meta.url);
let main;
if (existsSync(built) && process.env.USBFN_HIL_FROM_SOURCE !== '1') {
  ({ main } = await import(built.href));
} else {
  const tsx = await import('tsx/esm/api').catch(() => undefined);
  if (tsx === undefined) {
    console.error('usbfn-hil: this copy has neither a build (dist/) nor tsx: run `npm run build`, or `npm install` the devDependencies');
    process.exit(2);
  }
  tsx.register();
  ({ main } = await import('./main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
