/**
 * The one text order of the project: UTF-16 code-unit order, the same on every machine and in
 * every locale (unlike `localeCompare`). Artifact names and ISO times sort correctly under it.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
