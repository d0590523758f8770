/**
 * Which scenarios a run selects. `--filter` is literal text (a name with `(` or `?` means exactly that),
 * `--grep` a regular expression, `--scenario` exactly one scenario as the replay line prints it
 * (`<file> > <describe> > <title>`). Each becomes vitest's name pattern, which vitest matches against
 * "<describe…> <title>" joined by spaces (the file is a separate filter).
 */
import { UsageError } from '../core/index.js';

/** Escapes every regular-expression metacharacter. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export interface ScenarioSelection {
  /** The pattern handed to vitest (`--testNamePattern`), or undefined for all. */
  readonly namePattern: string | undefined;
  /** Files to restrict the run to (vitest's positional filters). */
  readonly files: readonly string[];
  /** How the selection is shown to the user. */
  readonly description: string | undefined;
}

/** The separator of a scenario's path in replay lines. */
export const SCENARIO_PATH_SEPARATOR = ' > ';

/**
 * Builds the selection from the three options (at most one of them).
 * @throws UsageError INVALID_ARGUMENT for two options at once, an empty value or an invalid --grep pattern.
 */
export function scenarioSelection(opts: { filter?: string | undefined; grep?: string | undefined; scenario?: string | undefined }): ScenarioSelection {
  const given = (['filter', 'grep', 'scenario'] as const).filter((k) => opts[k] !== undefined);
  if (given.length > 1) {
    throw new UsageError('INVALID_ARGUMENT', `give only one of --filter, --grep and --scenario (got ${given.map((g) => `--${g}`).join(' and ')})`);
  }
  for (const k of given) {
    if (opts[k]!.trim() === '') throw new UsageError('INVALID_ARGUMENT', `--${k} is empty: give part of a scenario name, e.g. --filter 'echoes 4 KiB'`);
  }
  if (opts.filter !== undefined) {
    return { namePattern: escapeRegExp(opts.filter), files: [], description: `name contains '${opts.filter}'` };
  }
  if (opts.grep !== undefined) {
    try {
      new RegExp(opts.grep);
    } catch (err) {
      throw new UsageError('INVALID_ARGUMENT', `--grep '${opts.grep}' is not a regular expression (${(err as Error).message}); use --filter for literal text`);
    }
    return { namePattern: opts.grep, files: [], description: `name matches /${opts.grep}/` };
  }
  if (opts.scenario !== undefined) {
    const parts = opts.scenario.split(SCENARIO_PATH_SEPARATOR);
    const file = parts[0]!.trim();
    if (parts.length < 2 || !/\.test\.ts$/.test(file)) {
      throw new UsageError(
        'INVALID_ARGUMENT',
        `--scenario '${opts.scenario}' is not '<file> > <title>': copy it from a replay line, e.g. --scenario 'scenarios/bulk/loopback.test.ts > high speed (wMaxPacketSize 512) > echoes 512 bytes byte-exact'`,
      );
    }
    return {
      namePattern: `^${escapeRegExp(parts.slice(1).join(' '))}$`,
      files: [file],
      description: `exactly '${opts.scenario}'`,
    };
  }
  return { namePattern: undefined, files: [], description: undefined };
}

/** The replay line's `--scenario` value for a scenario: its file, describe blocks and title. */
export function scenarioPath(file: string, names: readonly string[]): string {
  return [file.replaceAll('\\', '/'), ...names].join(SCENARIO_PATH_SEPARATOR);
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * The names most like `query`: names sharing more of its words first, then by edit distance to the best
 * matching stretch of the name. For "no scenario matched" hints.
 */
export function closestNames(query: string, names: readonly string[], count = 5): string[] {
  const q = query.toLowerCase();
  const words = q.split(/\s+/).filter((w) => w.length > 1);
  const scored = [...new Set(names)].map((name) => {
    const n = name.toLowerCase();
    const shared = words.filter((w) => n.includes(w)).length;
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i + Math.min(q.length, n.length) <= n.length; i += Math.max(1, Math.floor(q.length / 4))) {
      best = Math.min(best, editDistance(q, n.slice(i, i + q.length)));
    }
    return { name, shared, best };
  });
  scored.sort((a, b) => b.shared - a.shared || a.best - b.best || a.name.localeCompare(b.name));
  return scored.slice(0, count).map((s) => s.name);
}
