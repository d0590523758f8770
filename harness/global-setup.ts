/**
 * Vitest globalSetup for the scenario projects: fixes one run seed for every worker (USBFN_HIL_SEED or a
 * fresh one) and prints it, so any run can be replayed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { formatSeed, runSeedFromEnv, SEED_ENV } from './seed.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The world scenarios run in. */
    mode: 'sim' | 'lab' | 'lab-sim';
    /** The run seed every scenario seed derives from. */
    runSeed: number;
  }
}

const ENVIRONMENT_FILE = 'reports/allure-results/environment.properties';

function recordSeedInEnvironment(seed: string): void {
  if (!existsSync(ENVIRONMENT_FILE)) return;
  const lines = readFileSync(ENVIRONMENT_FILE, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('seed='));
  writeFileSync(ENVIRONMENT_FILE, [...lines, `seed=${seed}`, ''].join('\n'));
}

export default function setup(project: TestProject): () => void {
  const { seed, fresh } = runSeedFromEnv();
  project.provide('runSeed', seed);
  if (process.env['USBFN_HIL_LIST'] !== '1') console.log(
    `usbfn-hil: run seed ${formatSeed(seed)}${fresh ? ' (fresh)' : ` (from ${SEED_ENV})`}; replay with ${SEED_ENV}=${formatSeed(seed)}`,
  );
  // The reporter wrote the environment before this ran: record the seed actually used once the run ends.
  return () => recordSeedInEnvironment(formatSeed(seed));
}
