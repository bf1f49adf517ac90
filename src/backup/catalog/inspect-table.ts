/**
 * Neo4j's inspect table format: every line starts with "| " and each cell ends with " |", cells are
 * right-aligned to the widest of the column's header and values, and there is no separator line.
 */

/** The table as lines joined by "\n", ending with "\n". */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${widths.map((width, column) => (cells[column] ?? '').padStart(width)).join(' | ')} |`;
  return [line(headers), ...rows.map(line)].map((l) => `${l}\n`).join('');
}
