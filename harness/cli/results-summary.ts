/**
 * A run summary rebuilt from Allure result files, for a report merged from the shards of a sharded run:
 * the same table `usbfn-hil run` prints, so a merged run can be compared with an unsharded one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunSummary, ScenarioOutcome, ScenarioRecord } from '../report/index.js';

interface AllureResult {
  readonly name?: string;
  readonly fullName?: string;
  readonly status?: string;
  readonly statusDetails?: { message?: string };
  readonly labels?: readonly { name: string; value: string }[];
}

const OUTCOME: Readonly<Record<string, ScenarioOutcome>> = { passed: 'passed', failed: 'failed', broken: 'broken', skipped: 'skipped' };

export function summarizeResults(dirs: readonly string[]): RunSummary {
  const areas: Record<string, Record<ScenarioOutcome, number>> = {};
  const totals: Record<ScenarioOutcome, number> = { passed: 0, failed: 0, broken: 0, skipped: 0 };
  const scenarios: ScenarioRecord[] = [];
  let mode: string | undefined;
  for (const dir of dirs) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('-result.json'))) {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as AllureResult;
      const label = (n: string): string | undefined => r.labels?.find((l) => l.name === n)?.value;
      const area = label('epic') ?? 'other';
      const outcome = OUTCOME[r.status ?? ''] ?? 'broken';
      mode ??= label('mode');
      (areas[area] ??= { passed: 0, failed: 0, broken: 0, skipped: 0 })[outcome]++;
      totals[outcome]++;
      scenarios.push({
        path: r.fullName ?? r.name ?? f,
        area,
        outcome,
        selected: true,
        note: outcome === 'skipped' ? r.statusDetails?.message : undefined,
        error: outcome === 'failed' || outcome === 'broken' ? r.statusDetails?.message?.split('\n').slice(0, 8).join('\n') : undefined,
      });
    }
  }
  const selected = scenarios.length;
  return { mode, runSeed: undefined, areas, totals, selected, scenarios };
}
