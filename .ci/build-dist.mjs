// `npm run build`: transpiles every non-test TypeScript file of the runtime floors (core, device-side,
// host-side, simulator, harness) to dist/ with esbuild, one file per file in the same folder layout (imports
// already end in .js), so the package runs on plain node with no devDependency: `usbfn-hil agent serve` on
// a device installed with `npm install --omit=dev <tgz>`. Tests, contract suites and benchmarks stay out.
//
//   node .ci/build-dist.mjs [--outdir <dir>]      (default dist/, emptied first)
/* global URL, performance */
import { readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FLOORS = ['core', 'device-side', 'host-side', 'simulator', 'harness'];
const SKIP = /\.(test|contract|bench)\.ts$|\.d\.ts$/;

const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } } });
const outdir = resolve(ROOT, values.outdir);
const rel = relative(ROOT, outdir);
if (rel === '' || FLOORS.includes(rel.split(/[\\/]/)[0])) {
  throw new Error(`--outdir ${values.outdir}: refusing to write into the sources; use dist/ or a folder of its own`);
}

/** Every .ts under `dir` that is not a test, contract suite or benchmark. */
function sources(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (entry.name.endsWith('.ts') && !SKIP.test(entry.name)) out.push(path);
  }
  return out;
}

const entryPoints = FLOORS.flatMap((f) => sources(join(ROOT, f)));
const t0 = performance.now();
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints,
  outdir,
  outbase: ROOT,
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// The CLI (harness/cli/bin.js) runs the build only while no source is newer than this stamp.
writeFileSync(join(outdir, '.build-stamp'), `${new Date().toISOString()}\n`);
console.log(`usbfn-hil build: ${entryPoints.length} files → ${relative(ROOT, outdir) || outdir} in ${Math.round(performance.now() - t0)} ms`);
