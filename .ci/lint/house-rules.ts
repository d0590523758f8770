/**
 * House rules that ESLint cannot see file by file (run by `npm run lint` after ESLint):
 *  1. the folder graph of non-test code has no cycle (imports run one way between folders; a folder's
 *     index.ts re-exporting its subfolders is the public API, not a dependency, so it is left out);
 *  2. no non-test source file is over 600 lines;
 *  3. nothing cites a document outside the repository (a user who clones it must be able to read it);
 *  4. every Markdown link and every `docs/…md#anchor` citation in code or docs resolves.
 * Exit 1 with one line per violation.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');
const MAX_LINES = 600;

const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && !f.startsWith('node_modules/') && !f.startsWith('dist/') && existsSync(join(ROOT, f)));

const problems: string[] = [];
const isTest = (f: string): boolean => /\.(test|contract)\.ts$/.test(f) || /(^|\/)testing\//.test(f);
const source = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));

// ---- 1. folder graph ---------------------------------------------------------------------------------
/**
 * The specifiers a file imports at run time: static imports and re-exports that are not `import type` /
 * `export type`, and dynamic `import()`. Type-only imports vanish at compile time, so they cannot make a
 * cycle of modules (the architecture review counted cycles the same way).
 */
function runtimeImports(text: string): string[] {
  const out: string[] = [];
  const sf = ts.createSourceFile('x.ts', text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) out.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!node.isTypeOnly) out.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] !== undefined && ts.isStringLiteral(node.arguments[0])) {
      out.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const edges = new Map<string, Set<string>>();
const why = new Map<string, string>();
for (const file of source) {
  if (isTest(file) || file.endsWith('/index.ts') || file.startsWith('.ci/') || !file.includes('/')) continue;
  const from = dirname(file);
  for (const spec of runtimeImports(readFileSync(join(ROOT, file), 'utf8'))) {
    if (!spec.startsWith('.')) continue;
    const target = normalize(join(from, spec)).replace(/\.js$/, '.ts');
    const to = dirname(target);
    if (to === from || to === '.' || target.startsWith('..')) continue;
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from)!.add(to);
    why.set(`${from}→${to}`, `${file} imports ${spec}`);
  }
}
// Tarjan's strongly connected components.
let index = 0;
const stack: string[] = [];
const onStack = new Set<string>();
const idx = new Map<string, number>();
const low = new Map<string, number>();
const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((s) => [...s])]);
function connect(v: string): void {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!idx.has(w)) {
      connect(w);
      low.set(v, Math.min(low.get(v)!, low.get(w)!));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
  }
  if (low.get(v) === idx.get(v)) {
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) {
      const sample = scc.flatMap((a) => scc.filter((b) => why.has(`${a}→${b}`)).map((b) => why.get(`${a}→${b}`)!));
      problems.push(`folder cycle ${scc.sort().join(' ↔ ')}: ${sample.slice(0, 4).join('; ')}`);
    }
  }
}
for (const v of nodes) if (!idx.has(v)) connect(v);

// ---- 2. file size --------------------------------------------------------------------------------------
for (const file of source) {
  if (isTest(file)) continue;
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n').length;
  if (lines > MAX_LINES) problems.push(`${file} has ${lines} lines (at most ${MAX_LINES} for non-test source): split it along its concerns`);
}

// ---- 3. no citations of documents outside the repository -----------------------------------------------
const TEXT = /\.(ts|js|mjs|md|json|sh|ya?ml|reg|txt)$|(^|\/)run$/;
const EXTERNAL = /\bDESIGN\.md\b|\bSTYLE\.md\b|usbfn-abi\.md|usb-captures\.md|\.\.\/shared\/|\breference §|\bshared\/notes\b/;
const texts = files.filter((f) => TEXT.test(f) && !f.startsWith('.ci/lint/') && statSync(join(ROOT, f)).size < 2_000_000);
for (const file of texts) {
  readFileSync(join(ROOT, file), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (EXTERNAL.test(line)) problems.push(`${file}:${i + 1} cites a document outside the repository: ${line.trim().slice(0, 120)}`);
    });
}

// ---- 4. links and anchors ----------------------------------------------------------------------------
const anchorCache = new Map<string, Set<string> | null>();
function anchorsOf(path: string): Set<string> | null {
  if (anchorCache.has(path)) return anchorCache.get(path)!;
  let text: string;
  try {
    text = readFileSync(join(ROOT, path), 'utf8');
  } catch {
    anchorCache.set(path, null);
    return null;
  }
  const found = new Set<string>();
  const counts = new Map<string, number>();
  let inCode = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    if (inCode) continue;
    for (const m of line.matchAll(/<a id="([^"]+)"/g)) found.add(m[1]!);
    const h = /^#{1,6} (.*)/.exec(line);
    if (h !== null) {
      const slug = h[1]!
        .replaceAll('`', '')
        .trim()
        .toLowerCase()
        .replace(/<[^>]+>/g, '')
        .replace(/[^\p{L}\p{N}_\- ]/gu, '')
        .replaceAll(' ', '-');
      const n = counts.get(slug) ?? 0;
      counts.set(slug, n + 1);
      found.add(n === 0 ? slug : `${slug}-${n}`);
    }
  }
  anchorCache.set(path, found);
  return found;
}
function checkTarget(from: string, path: string, anchor: string, what: string): void {
  const target = path === '' ? from : normalize(path);
  if (existsSync(join(ROOT, target)) && statSync(join(ROOT, target)).isDirectory()) return;
  const anchors = anchorsOf(target);
  if (anchors === null) problems.push(`${from}: ${what} to missing file ${path}`);
  else if (anchor !== '' && !anchors.has(anchor)) problems.push(`${from}: ${what} to missing anchor ${target}#${anchor}`);
}
for (const file of texts) {
  const text = readFileSync(join(ROOT, file), 'utf8');
  if (file.endsWith('.md')) {
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1]!;
      if (/^[a-z]+:/i.test(link)) continue;
      const [path = '', anchor = ''] = link.split('#');
      checkTarget(file, path === '' ? '' : relative(ROOT, resolve(ROOT, dirname(file), path)), anchor, 'link');
    }
  }
  for (const m of text.matchAll(/(?<![\w/.])(docs\/[\w./-]+\.md)(?:#([\w-]+))?/g)) checkTarget(file, m[1]!, m[2] ?? '', 'citation');
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`house rules: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  process.exit(1);
}
console.log(`house rules: ok (${source.length} TypeScript files, ${nodes.size} folders without a cycle, ${texts.length} text files cited and linked correctly)`);
