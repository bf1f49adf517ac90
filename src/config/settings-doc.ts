/**
 * The settings table rendered as Markdown for docs/configuration.md, so the docs come from the same
 * declarations as the loader. A test checks that the docs contain exactly this output.
 */
import { settingKeys, settingSpec } from './settings.js';

/** One row per setting (descriptions are Markdown); the three SSL policy scopes share rows keyed `dbms.ssl.policy.<scope>.…`. */
export function settingsMarkdownTable(): string {
  const rows = ['| Setting | Type | Default | Description |', '|---|---|---|---|'];
  const seen = new Set<string>();
  for (const key of settingKeys) {
    const spec = settingSpec(key);
    const docKey = spec.docKey ?? key;
    if (seen.has(docKey)) continue;
    seen.add(docKey);
    const defaultCell =
      spec.docDefault !== undefined ? escape(spec.docDefault) : spec.default === undefined ? '(none)' : code(spec.default);
    const cells = [
      code(docKey),
      escape(spec.type.docName),
      defaultCell,
      escape(spec.description),
    ];
    rows.push(`| ${cells.join(' | ')} |`);
  }
  return rows.join('\n');
}

function code(text: string): string {
  return `\`${escape(text)}\``;
}

function escape(text: string): string {
  return text.replaceAll('|', '\\|');
}
