/**
 * Vitest projects (STYLE.md §2):
 * - `unit`: colocated `*.test.ts` next to their source (codecs, state machines, models, contracts);
 * - `sim`: the scenario suite on the simulator (`provide: { mode: 'sim' }`).
 * System-tool tiers (tshark, umockdev, Wine) have their own configs under .ci/ and run from .ci/run.
 * allure-vitest writes results to reports/allure-results for every project.
 */
import { defineConfig } from 'vitest/config';

const allureReporter: [string, Record<string, unknown>] = [
  'allure-vitest/reporter',
  { resultsDir: 'reports/allure-results', links: {} },
];

export default defineConfig({
  test: {
    reporters: ['default', allureReporter],
    setupFiles: ['allure-vitest/setup'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{harness,simulator,host-side,device-side,bench}/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'sim',
          include: ['scenarios/**/*.test.ts'],
          provide: { mode: 'sim' },
        },
      },
    ],
  },
});
