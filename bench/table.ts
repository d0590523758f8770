/**
 * Prints rows as a fixed-width text table (what `npm run bench` shows and bench/README.md quotes).
 */

/** One row: cells in column order. */
export type TableRow = readonly string[];

/**
 * Formats `rows` under `header`, columns padded to their widest cell; numeric-looking cells are
 * right-aligned. Returns the text (no trailing newline).
 */
export function formatTable(header: TableRow, rows: readonly TableRow[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = /^[-+]?[\d.,]+(\s?\S+)?$/;
  const line = (cells: TableRow): string =>
    cells
      .map((c, i) => (numeric.test(c) && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Formats `table` as a Markdown table (for the README). */
export function formatMarkdownTable(header: TableRow, rows: readonly TableRow[]): string {
  const line = (cells: TableRow): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
