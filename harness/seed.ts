/**
 * Seeds: one per run, one per scenario derived from it. A simulated run is reproducible from its run seed
 * (USBFN_HIL_SEED or `usbfn-hil run --seed`), and each scenario's seed depends only on the run seed and the
 * scenario's full name, so re-running one scenario alone reproduces it too.
 */
import { UsageError } from '../core/index.js';

/** Environment variable that fixes the run seed. */
export const SEED_ENV = 'USBFN_HIL_SEED';

/**
 * Parses a seed given by a user: decimal or 0x-hex, 0..0xFFFFFFFF.
 * @throws UsageError INVALID_SEED saying what was wrong and the accepted forms.
 */
export function parseSeed(text: string, source = SEED_ENV): number {
  const t = text.trim();
  const value = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffffffff) {
    throw new UsageError(
      'INVALID_SEED',
      `${source}='${text}' is not a seed: give a decimal or 0x-hex integer in 0..0xFFFFFFFF, e.g. ${source}=0x1a2b3c4d`,
      { source, text },
    );
  }
  return value;
}

/** The run seed from the environment, or a fresh one. */
export function runSeedFromEnv(env: NodeJS.ProcessEnv = process.env): { seed: number; fresh: boolean } {
  const text = env[SEED_ENV];
  if (text !== undefined && text !== '') return { seed: parseSeed(text), fresh: false };
  return { seed: (Math.random() * 0x100000000) >>> 0, fresh: true };
}

/** A scenario's seed: FNV-1a of its full name mixed with the run seed. */
export function scenarioSeed(runSeed: number, fullName: string): number {
  let h = 0x811c9dc5 ^ runSeed;
  for (let i = 0; i < fullName.length; i++) {
    h ^= fullName.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** `0x1a2b3c4d` */
export function formatSeed(seed: number): string {
  return `0x${seed.toString(16).padStart(8, '0')}`;
}
