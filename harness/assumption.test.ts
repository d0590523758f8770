import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assumption, AssumptionFailedError, ASSUMPTIONS_DOC } from './assumption.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** Every `<a id="…">` of the assumptions page. */
function rowIds(): Set<string> {
  return new Set([...readFileSync(join(ROOT, ASSUMPTIONS_DOC), 'utf8').matchAll(/<a id="([^"]+)"/g)].map((m) => m[1]!));
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('assumption', () => {
  it('passes through a check that holds', async () => {
    const completed = ['TRANSFER_OUT'];
    await expect(assumption('drv-purge-cancelled', 'holds', () => expect(completed).toContain('TRANSFER_OUT'))).resolves.toBeUndefined();
  });

  it('files a failed check under the ASSUMPTION category by its id, with a serializable cause', async () => {
    const err = await assumption('drv-purge-cancelled', 'pending transfers end with 995', () => expect(22).toBe(995)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AssumptionFailedError);
    const e = err as AssumptionFailedError;
    expect(e.message).toMatch(/^\[ASSUMPTION drv-purge-cancelled\] pending transfers end with 995: expected 22 to be 995/);
    expect(e.data).toMatchObject({ id: 'drv-purge-cancelled', see: 'docs/reference/documented-vs-inferred.md#drv-purge-cancelled' });
    expect(JSON.parse(JSON.stringify(e.toJSON()))).toMatchObject({ code: 'ASSUMPTION', cause: { name: 'AssertionError' } });
    expect(Object.keys(e.cause as object)).not.toContain('actual');
  });

  it('refuses something that is not a row id (a section number, free text)', async () => {
    await expect(assumption('§6.2', 'x', () => undefined)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(assumption('pending transfers', 'x', () => undefined)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('every id a scenario or the simulator cites has its row in docs/reference/documented-vs-inferred.md', () => {
    const rows = rowIds();
    const cited = new Map<string, string>();
    for (const file of filesUnder('scenarios')) {
      for (const m of readFileSync(file, 'utf8').matchAll(/assumption\(\s*'([^']+)'/g)) cited.set(m[1]!, file);
    }
    for (const file of filesUnder('simulator')) {
      for (const m of readFileSync(file, 'utf8').matchAll(/ASSUMPTION\(([a-z0-9-]+)\)/g)) cited.set(m[1]!, file);
    }
    expect(cited.size).toBeGreaterThan(40);
    const missing = [...cited].filter(([id]) => !rows.has(id)).map(([id, file]) => `${id} (${file})`);
    expect(missing).toEqual([]);
  });

  it('every ASSUMPTION in the simulator carries its id', () => {
    const bare = filesUnder('simulator').flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${file.slice(ROOT.length)}:${i + 1}` }))
        .filter(({ line }) => /\bASSUMPTION\b(?!\()/.test(line) && !/ASSUMPTION\([a-z0-9-]+\)/.test(line)),
    );
    expect(bare.map((b) => b.at)).toEqual([]);
  });
});
