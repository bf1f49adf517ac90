/**
 * Command-line options of the benchmarks, declared once (name, default, meaning) so that parsing
 * and `--help` come from the same table. Every option is `--name=value`.
 */

export interface BenchOptionSpec {
  name: string;
  defaultValue: string;
  doc: string;
}

export type BenchOptions = Map<string, string>;

/** Options every benchmark shares. */
export const commonOptionSpecs: BenchOptionSpec[] = [
  { name: 'store-mb', defaultValue: '2048', doc: 'size of the generated store (data.mdb) in MiB; use 200 for quick runs' },
  { name: 'work-dir', defaultValue: '', doc: 'parent folder of the scratch folder (default: the system temp folder); everything is removed at the end' },
  { name: 'reps', defaultValue: '2', doc: 'repetitions of each timed process (alternating with the baseline), reported one by one and as a median' },
  { name: 'keep', defaultValue: 'false', doc: 'keep the scratch folder (stores, artifacts) for inspection' },
];

export function parseBenchOptions(argv: string[], specs: BenchOptionSpec[], usage: string): BenchOptions {
  const all = [...commonOptionSpecs, ...specs];
  const out: BenchOptions = new Map(all.map((s) => [s.name, s.defaultValue]));
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${usage}\n\n${all.map((s) => `  --${s.name}=<value>  ${s.doc} (default: ${s.defaultValue || 'none'})`).join('\n')}\n`);
      process.exit(0);
    }
    const m = /^--([a-z0-9-]+)=(.*)$/.exec(arg);
    const spec = m ? all.find((s) => s.name === m[1]) : undefined;
    if (!m || !spec) throw new Error(`unknown benchmark argument "${arg}": expected one of ${all.map((s) => `--${s.name}=`).join(', ')}`);
    out.set(spec.name, m[2]!);
  }
  return out;
}

export function numberOption(opts: BenchOptions, name: string): number {
  const text = opts.get(name) ?? '';
  const n = Number(text);
  if (text === '' || !Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${text}"`);
  return n;
}

export function booleanOption(opts: BenchOptions, name: string): boolean {
  const text = opts.get(name);
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new Error(`--${name} must be true or false, got "${text}"`);
}
