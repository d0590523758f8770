/**
 * The run summary in the terminal: a line per scenario file as it finishes (progress per area), and at the
 * end a table of passed / failed / broken / skipped per area, the skip reasons, each failure with its replay
 * line, the run seed and where the report is. It also writes the same facts to `reports/run-summary.json`,
 * which the CLI reads (e.g. to say "no scenario matched" with the closest names instead of exiting 0).
 *
 * Only scenario projects (sim, lab, lab-sim) are summarised; unit tests have vitest's own output.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { TestCase, TestModule } from 'vitest/node';
import type { Reporter } from 'vitest/reporters';
import { scenarioOutcome, type ScenarioOutcome } from './outcome.js';

const SCENARIO_PROJECTS = new Set(['sim', 'lab', 'lab-sim']);

export interface ScenarioRecord {
  /** `<file> > <describe…> > <title>`: what `usbfn-hil run --scenario` takes. */
  readonly path: string;
  readonly area: string;
  readonly outcome: ScenarioOutcome;
  /** Whether the run's selection (name filter, tags) chose it; false = filtered out. */
  readonly selected: boolean;
  readonly note?: string | undefined;
  readonly error?: string | undefined;
  /** The scenario's tags (why a world left it out). */
  readonly tags?: readonly string[] | undefined;
}

export interface RunSummary {
  readonly mode: string | undefined;
  readonly runSeed: number | undefined;
  readonly areas: Readonly<Record<string, Readonly<Record<ScenarioOutcome, number>>>>;
  readonly totals: Readonly<Record<ScenarioOutcome, number>>;
  /** How many scenarios the selection chose (0 with a filter = nothing matched). */
  readonly selected: number;
  readonly scenarios: readonly ScenarioRecord[];
}

export interface RunSummaryOptions {
  /** Where to write the JSON summary. Default `reports/run-summary.json` under the working directory. */
  readonly file?: string | undefined;
  /** Progress lines while running: one per scenario file (`file`), one per scenario (`scenario`, for lab runs where a scenario takes seconds), or none. Default `file`. */
  readonly progress?: 'file' | 'scenario' | 'none' | undefined;
}

const empty = (): Record<ScenarioOutcome, number> => ({ passed: 0, failed: 0, broken: 0, skipped: 0 });

function areaOf(moduleId: string): string {
  const m = /scenarios\/([^/]+)\//.exec(moduleId.replaceAll('\\', '/'));
  return m?.[1] ?? 'other';
}

function namesOf(test: TestCase): string[] {
  const names = [test.name];
  let p = test.parent;
  while (p.type === 'suite') {
    names.unshift(p.name);
    p = p.parent;
  }
  return names;
}

/**
 * The error message, bounded. A failing scenario's message ends with its replay line, which is kept however
 * long the message is (and never shortened), so that every printed failure can be replayed.
 */
function boundedMessage(text: string): string {
  const lines = text.split('\n');
  const replay = lines.length > 1 && / replay: /.test(lines[lines.length - 1]!) ? lines.pop()! : undefined;
  const head = lines.slice(0, 8).map((l) => l.slice(0, 400)).join('\n') + (lines.length > 8 ? `\n… (${lines.length - 8} more lines in the report)` : '');
  return replay === undefined ? head : `${head}\n${replay}`;
}

export default class RunSummaryReporter implements Reporter {
  readonly #file: string;
  readonly #progress: 'file' | 'scenario' | 'none';
  #root = process.cwd();

  constructor(options: RunSummaryOptions = {}) {
    this.#file = options.file ?? 'reports/run-summary.json';
    this.#progress = options.progress ?? 'file';
  }

  onInit(vitest: { config: { root: string } }): void {
    this.#root = vitest.config.root;
  }

  onTestModuleEnd(module: TestModule): void {
    if (this.#progress !== 'file' || !SCENARIO_PROJECTS.has(module.project.name)) return;
    const counts = empty();
    let selected = 0;
    for (const test of module.children.allTests()) {
      if (test.options.mode === 'skip' || test.options.mode === 'todo') continue;
      selected++;
      counts[this.#outcome(test)]++;
    }
    if (selected === 0) return;
    const file = relative(this.#root, module.moduleId).replaceAll('\\', '/');
    const parts = (['passed', 'failed', 'broken', 'skipped'] as const).filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${k}`);
    const mark = counts.failed + counts.broken > 0 ? '✗' : '✓';
    console.log(`  ${mark} [${areaOf(file)}] ${file.replace(/^scenarios\/[^/]+\//, '')}: ${parts.join(', ')}`);
  }

  onTestCaseResult(test: TestCase): void {
    if (this.#progress !== 'scenario' || !SCENARIO_PROJECTS.has(test.project.name)) return;
    if (test.options.mode === 'skip' || test.options.mode === 'todo') return;
    const outcome = this.#outcome(test);
    const mark = { passed: '✓', failed: '✗', broken: '!', skipped: '↓' }[outcome];
    const ms = test.diagnostic()?.duration;
    const note = outcome === 'skipped' ? ` (${test.result().state === 'skipped' ? ((test.result() as { note?: string }).note ?? 'skipped') : ''})` : '';
    const file = relative(this.#root, test.module.moduleId).replaceAll('\\', '/');
    console.log(`  ${mark} [${areaOf(file)}] ${namesOf(test).join(' › ')}${ms === undefined ? '' : ` ${(ms / 1000).toFixed(1)} s`}${note}`);
  }

  #outcome(test: TestCase): ScenarioOutcome {
    const r = test.result();
    return scenarioOutcome(r.state, r.state === 'failed' ? (r.errors[0] as { code?: unknown } | undefined) : undefined);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const scenarios: ScenarioRecord[] = [];
    const areas: Record<string, Record<ScenarioOutcome, number>> = {};
    const totals = empty();
    let mode: string | undefined;
    let runSeed: number | undefined;
    let selected = 0;
    for (const module of modules) {
      if (!SCENARIO_PROJECTS.has(module.project.name)) continue;
      mode ??= module.project.name;
      runSeed ??= (module.project.getProvidedContext() as { runSeed?: number }).runSeed;
      const file = relative(this.#root, module.moduleId).replaceAll('\\', '/');
      const area = areaOf(file);
      for (const test of module.children.allTests()) {
        const chosen = test.options.mode !== 'skip' && test.options.mode !== 'todo';
        const r = test.result();
        const outcome = this.#outcome(test);
        const error = r.state === 'failed' ? r.errors[0] : undefined;
        scenarios.push({
          path: [file, ...namesOf(test)].join(' > '),
          area,
          outcome,
          selected: chosen,
          note: r.state === 'skipped' ? r.note : undefined,
          tags: test.tags.length === 0 ? undefined : [...test.tags],
          error: error === undefined ? undefined : boundedMessage(String((error as { message?: unknown }).message ?? error)),
        });
        if (!chosen) continue;
        selected++;
        (areas[area] ??= empty())[outcome]++;
        totals[outcome]++;
      }
    }
    if (mode === undefined) return;
    const summary: RunSummary = { mode, runSeed, areas, totals, selected, scenarios };
    mkdirSync(dirname(this.#file), { recursive: true });
    writeFileSync(this.#file, JSON.stringify(summary, null, 2));
    if (selected > 0) console.log(formatRunSummary(summary));
  }
}

/** Why a world leaves out scenarios of a tag. */
const LEFT_OUT_BECAUSE: Readonly<Record<string, string>> = {
  'sim-only': "they need the simulator's fault injection (the sim fixture)",
  slow: 'their long waits cost nothing on the virtual clock but all of it on the real one',
  'local-host': 'they check libusb behaviour USB/IP cannot carry (bytes of a timed-out bulk IN)',
};

/** The terminal table of a run (also used by the CLI after a sharded merge). */
export function formatRunSummary(s: RunSummary): string {
  const cols = ['passed', 'failed', 'broken', 'skipped'] as const;
  const rows = Object.entries(s.areas).sort(([a], [b]) => a.localeCompare(b));
  const w = Math.max(5, ...rows.map(([a]) => a.length));
  const line = (name: string, c: Readonly<Record<ScenarioOutcome, number>>): string =>
    `  ${name.padEnd(w)}  ${cols.map((k) => String(c[k]).padStart(9)).join('')}`;
  const out = [
    '',
    `usbfn-hil: ${s.selected} scenario${s.selected === 1 ? '' : 's'} in mode ${s.mode}` +
      (s.runSeed === undefined ? '' : `, run seed 0x${s.runSeed.toString(16).padStart(8, '0')}`),
    `  ${'area'.padEnd(w)}  ${cols.map((k) => k.padStart(9)).join('')}`,
    ...rows.map(([a, c]) => line(a, c)),
    line('total', s.totals),
  ];
  const reasons = new Map<string, number>();
  for (const sc of s.scenarios) if (sc.selected && sc.outcome === 'skipped') reasons.set(sc.note ?? 'skipped (no reason given)', (reasons.get(sc.note ?? 'skipped (no reason given)') ?? 0) + 1);
  if (reasons.size > 0) {
    out.push('  skipped because:');
    for (const [why, n] of reasons) out.push(`    ${n} × ${why}`);
  }
  // What the world's tags left out (e.g. lab-sim leaves out slow and local-host scenarios), with why.
  if (s.mode === 'lab-sim' || s.mode === 'lab') {
    const leftOut = new Map<string, number>();
    for (const sc of s.scenarios) {
      if (sc.selected) continue;
      for (const t of sc.tags ?? []) if (LEFT_OUT_BECAUSE[t] !== undefined && (t !== 'sim-only' || s.mode === 'lab-sim')) leftOut.set(t, (leftOut.get(t) ?? 0) + 1);
    }
    if (leftOut.size > 0) {
      out.push(`  left out in mode ${s.mode}:`);
      for (const [t, n] of leftOut) out.push(`    ${n} × ${t}: ${LEFT_OUT_BECAUSE[t]}`);
    }
  }
  const bad = s.scenarios.filter((sc) => sc.selected && (sc.outcome === 'failed' || sc.outcome === 'broken'));
  if (bad.length > 0) {
    out.push(`  ${bad.length} not passed:`);
    for (const sc of bad.slice(0, 50)) out.push(`    ${sc.outcome === 'broken' ? '! broken' : '✗ failed'}: ${sc.path}${sc.error === undefined ? '' : `\n        ${sc.error.replaceAll('\n', '\n        ')}`}`);
    if (bad.length > 50) out.push(`    … and ${bad.length - 50} more (see the report)`);
  }
  return out.join('\n');
}
