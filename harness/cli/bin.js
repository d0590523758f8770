#!/usr/bin/env node
// The `usbfn-hil` command. It runs the build (dist/, plain node) when there is one that is not older than
// the TypeScript sources beside it: an installed package (no sources) or a checkout after `npm ci` (the
// `prepare` script builds). A checkout whose sources changed since the build runs them through tsx (a
// devDependency) instead, so an edit never runs stale code. USBFN_HIL_FROM_SOURCE=1 always runs the sources.
/* global URL */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../../', import.meta.url);
const built = new URL('dist/harness/cli/main.js', ROOT);
const stamp = new URL('dist/.build-stamp', ROOT);
const FLOORS = ['core', 'device-side', 'host-side', 'simulator', 'harness'];

/** The newest modification time of the sources (0 in an installed package, which ships none). */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const floor of FLOORS) {
    const dir = fileURLToPath(new URL(floor, ROOT));
    if (existsSync(dir)) walk(dir);
  }
  return newest;
}

const fresh = existsSync(built) && existsSync(stamp) && newestSource() <= statSync(stamp).mtimeMs;
let main;
if (fresh && process.env.USBFN_HIL_FROM_SOURCE !== '1') {
  ({ main } = await import(built.href));
} else {
  const tsx = await import('tsx/esm/api').catch(() => undefined);
  if (tsx !== undefined) {
    tsx.register();
    ({ main } = await import('./main.ts'));
  } else if (existsSync(built)) {
    ({ main } = await import(built.href));
  } else {
    console.error('usbfn-hil: this copy has neither a build (dist/) nor tsx: run `npm run build`, or `npm install` the devDependencies');
    process.exit(2);
  }
}
process.exitCode = await main(process.argv.slice(2));
