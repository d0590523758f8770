/**
 * The project's vitest configuration for the scaling benchmark (bench/scaling.ts): the same sim project,
 * fixtures, global setup and Allure reporter, but its scenarios are the generated files of one
 * measurement (BENCH_SCALING_DIR) and results go to BENCH_ALLURE_DIR.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../vitest.config.js';

const dir = process.env['BENCH_SCALING_DIR'];
const resultsDir = process.env['BENCH_ALLURE_DIR'];
if (dir === undefined || resultsDir === undefined) {
  throw new Error('bench/scaling.vitest.config.ts is run by bench/scaling.ts, which sets BENCH_SCALING_DIR and BENCH_ALLURE_DIR: use npm run bench');
}

type ReporterEntry = string | [string, Record<string, unknown>];
const reporters = ((base.test?.reporters ?? []) as ReporterEntry[])
  .filter((r) => Array.isArray(r) && r[0].includes('allure'))
  .map((r): ReporterEntry => (Array.isArray(r) ? [r[0], { ...r[1], resultsDir }] : r));

const sim = (base.test?.projects ?? []).find((p) => typeof p === 'object' && 'test' in p && p.test?.name === 'sim') as { test: Record<string, unknown> };

export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    ...base.test,
    reporters: [...reporters, 'dot'],
    projects: [{ extends: true, test: { ...sim.test, include: [`${dir}/**/*.test.ts`] } }],
  },
});
