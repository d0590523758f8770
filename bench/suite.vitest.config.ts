/**
 * The project's vitest configuration for the suite benchmark, unchanged except where results go: the
 * Allure reporter stays on (with its categories and environment) but writes to the directory the
 * benchmark reads (BENCH_ALLURE_DIR), so concurrent runs never mix and reports/allure-results is untouched.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../vitest.config.js';

const resultsDir = process.env['BENCH_ALLURE_DIR'];
if (resultsDir === undefined || resultsDir === '') {
  throw new Error('bench/suite.vitest.config.ts is run by bench/suite.ts, which sets BENCH_ALLURE_DIR: use npm run bench');
}

type ReporterEntry = string | [string, Record<string, unknown>];
const reporters = ((base.test?.reporters ?? []) as ReporterEntry[]).map((r): ReporterEntry =>
  Array.isArray(r) && r[0].includes('allure') ? [r[0], { ...r[1], resultsDir }] : r,
);

export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: { ...base.test, reporters },
});
