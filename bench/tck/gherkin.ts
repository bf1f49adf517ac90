/**
 * A reader for the subset of Gherkin the openCypher TCK uses: Feature, Scenario, Scenario Outline
 * with Examples tables, tags, steps with doc strings ("""…""") and tables (| a | b |). Outlines are
 * expanded into one scenario per example row, with `<name>` replaced in step text, doc strings and
 * table cells; Background steps are put in front of each scenario's. Pure: text in, scenarios out.
 */

export interface Step {
  keyword: string;
  text: string;
  docString: string | null;
  table: string[][] | null;
}

export interface Scenario {
  feature: string;
  /** "[3] Should construct week date" plus " #2" for the second example row of an outline. */
  name: string;
  tags: string[];
  steps: Step[];
  /** 1-based line of the Scenario keyword. */
  line: number;
}

const stepKeywords = ['Given', 'When', 'Then', 'And', 'But'];

function splitRow(line: string): string[] {
  // Cells are separated by unescaped '|'; Gherkin escapes a literal bar as '\|', a backslash as '\\\\'.
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === '\\' && (inner[i + 1] === '|' || inner[i + 1] === '\\')) {
      cur += inner[i + 1];
      i++;
    } else if (c === '\\' && inner[i + 1] === 'n') {
      cur += '\n';
      i++;
    } else if (c === '|') {
      cells.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  cells.push(cur.trim());
  return cells;
}

interface RawScenario {
  name: string;
  tags: string[];
  steps: Step[];
  line: number;
  outline: boolean;
  examples: string[][][];
}

export function parseFeature(text: string): Scenario[] {
  const lines = text.split(/\r?\n/);
  let feature = '';
  const raws: RawScenario[] = [];
  let pendingTags: string[] = [];
  let cur: RawScenario | null = null;
  let inExamples = false;
  /** Background steps run before every scenario of the feature. */
  let background: RawScenario | null = null;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const t = line.trim();
    i++;
    if (t === '' || t.startsWith('#')) continue;
    if (t.startsWith('@')) {
      pendingTags.push(...t.split(/\s+/));
      continue;
    }
    if (t.startsWith('Feature:')) {
      feature = t.slice('Feature:'.length).trim();
      pendingTags = [];
      continue;
    }
    if (t.startsWith('Background:')) {
      background = { name: 'Background', tags: [], steps: [], line: i, outline: false, examples: [] };
      cur = background;
      inExamples = false;
      continue;
    }
    const sc = /^(Scenario Outline|Scenario Template|Scenario|Example):\s*(.*)$/.exec(t);
    if (sc) {
      cur = { name: sc[2]!, tags: pendingTags, steps: [], line: i, outline: sc[1] !== 'Scenario' && sc[1] !== 'Example', examples: [] };
      pendingTags = [];
      raws.push(cur);
      inExamples = false;
      continue;
    }
    if (/^(Examples|Scenarios):/.test(t)) {
      inExamples = true;
      cur?.examples.push([]);
      pendingTags = [];
      continue;
    }
    if (t.startsWith('|')) {
      const row = splitRow(t);
      if (!cur) continue;
      if (inExamples) cur.examples[cur.examples.length - 1]!.push(row);
      else {
        const step = cur.steps[cur.steps.length - 1];
        if (step) (step.table ??= []).push(row);
      }
      continue;
    }
    if (t.startsWith('"""')) {
      const indent = line.indexOf('"""');
      const body: string[] = [];
      while (i < lines.length && !lines[i]!.trim().startsWith('"""')) {
        const l = lines[i]!;
        body.push(l.slice(Math.min(indent, l.length - l.trimStart().length)));
        i++;
      }
      i++; // closing """
      const step = cur?.steps[cur.steps.length - 1];
      if (step) step.docString = body.join('\n');
      continue;
    }
    const kw = stepKeywords.find((k) => t.startsWith(k + ' '));
    if (kw && cur) {
      cur.steps.push({ keyword: kw, text: t.slice(kw.length + 1).trim(), docString: null, table: null });
      inExamples = false;
      continue;
    }
    // Free text under Feature (a description): ignored.
  }
  const out: Scenario[] = [];
  for (const r of raws) {
    if (background) r.steps = [...background.steps, ...r.steps];
    if (!r.outline) {
      out.push({ feature, name: r.name, tags: r.tags, steps: r.steps, line: r.line });
      continue;
    }
    let n = 0;
    for (const table of r.examples) {
      const [header, ...rows] = table;
      if (!header) continue;
      for (const row of rows) {
        n++;
        const subst = (s: string): string => s.replace(/<([^<>\s]+)>/g, (m, name: string) => {
          const idx = header.indexOf(name);
          return idx >= 0 ? row[idx]! : m;
        });
        out.push({
          feature,
          name: `${r.name} #${n}`,
          tags: r.tags,
          line: r.line,
          steps: r.steps.map((s) => ({
            keyword: s.keyword,
            text: subst(s.text),
            docString: s.docString === null ? null : subst(s.docString),
            table: s.table === null ? null : s.table.map((tr) => tr.map(subst)),
          })),
        });
      }
    }
  }
  return out;
}
