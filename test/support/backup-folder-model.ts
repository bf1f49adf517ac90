/**
 * A small model of one backup folder of one database whose server has a single linear history
 * (#14): what each artifact truly holds and whether it is intact, and from that what restore
 * (with and without --restore-until), AUTO/DIFF/FULL backup, aggregate-backup and `backup verify`
 * must do with the folder. It is deliberately independent of src/backup/chain.ts (it imports
 * nothing from src): backup-model.test.ts checks the real tools against it.
 *
 * Rules (docs/restore.md states the product's; these are the model's, in tx numbers only):
 * - Time order is the header's createdAt, then the file name (aggregate-backup dates its FULL at the
 *   newest artifact it aggregated; the test records what the header says).
 * - Reach: start at the newest usable FULL; a usable non-empty DIFF continues the reached tx R when
 *   lowestTx - 1 <= R < highestTx, and R becomes its highestTx; repeat until nothing continues.
 * - Held H: the highest tx of any present non-empty artifact newer than that FULL, intact or not.
 *   An artifact whose header or trailer cannot be read (truncated, or a byte flipped there) has a
 *   range no reader can know: newer than the FULL, it may hold anything (H = infinity). Its time is
 *   known only to the second in its name, so one named in the FULL's second counts as newer.
 * - A restore of the folder must fail when H > R and must otherwise restore exactly R.
 * - "Usable" depends on who asks. A restore reads every block, so only intact artifacts are usable
 *   ('intact' view). A backup plans from headers and trailers (it does not read the chain's blocks
 *   each time), so an artifact with a byte flipped inside a block looks fine to it ('readable'
 *   view) — unless it has to read the DIFF's records at a join point, so both are allowed.
 */

/** What happened to an artifact's bytes. */
export type Damage =
  /** Every byte as written. */
  | null
  /** A byte inside the blocks changed: header and trailer still read, the payload does not verify. */
  | 'contents'
  /** Truncated, or a header or trailer byte changed: nothing about it can be trusted. */
  | 'unreadable';

export interface ModelArtifact {
  name: string;
  kind: 'FULL' | 'DIFF';
  /** The transactions it truly holds; 0..0 for an empty DIFF. */
  lowestTx: number;
  highestTx: number;
  /** The header's createdAt (ISO 8601), recorded while the artifact was intact. */
  createdAt: string;
  damage: Damage;
  /** The step that wrote it, for messages. */
  madeBy: string;
}

export type View = 'intact' | 'readable';

export function isEmpty(a: ModelArtifact): boolean {
  return a.kind === 'DIFF' && a.highestTx === 0;
}

/** Oldest first: createdAt, then name. */
export function olderFirst(a: ModelArtifact, b: ModelArtifact): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function usable(a: ModelArtifact, view: View): boolean {
  return view === 'intact' ? a.damage === null : a.damage !== 'unreadable';
}

/** Why an artifact makes a restore of the folder refuse, as the product must say it. */
export type RefusalCause = 'gap' | 'damaged' | 'fullAfterPoint' | 'noChain';

/** What a refusal message must match for each cause. */
export const refusalPatterns: Record<RefusalCause, RegExp> = {
  gap: /transactions \d+\.\.\d+ are missing|no artifact before it can be linked/,
  damaged: /cannot be read|is corrupt|is damaged|is truncated|checksum|not a Quiver backup artifact/,
  fullAfterPoint: /already contains transaction|are in no differential artifact/,
  noChain: /no backup chain|no backup artifacts found|no readable backup artifact|has no FULL artifact|no full artifact/i,
};

export interface Hider {
  artifact: ModelArtifact;
  cause: RefusalCause;
}

export interface ChainView {
  root: ModelArtifact | null;
  /** The highest tx reached from the root (0 without a root). */
  reachedTx: number;
  /** Every tx reached (the root's end and the end of each DIFF followed). */
  reachedPoints: Set<number>;
  /** Highest tx held by a present artifact newer than the root (Infinity: an unreadable one). */
  heldTx: number;
  /** The artifacts that make heldTx > reachedTx. */
  hiders: Hider[];
}

/** Reach and held, over the present artifacts, for a root chosen among the FULLs `rootAccepts` allows. */
export function chainView(artifacts: readonly ModelArtifact[], view: View, rootAccepts: (full: ModelArtifact) => boolean = () => true): ChainView {
  const root = artifacts.filter((a) => a.kind === 'FULL' && usable(a, view) && rootAccepts(a)).sort(olderFirst).at(-1) ?? null;
  if (!root) return { root: null, reachedTx: 0, reachedPoints: new Set(), heldTx: 0, hiders: [] };
  const diffs = artifacts.filter((a) => a.kind === 'DIFF' && !isEmpty(a) && usable(a, view));
  const points = reachFrom(root, diffs);
  const reachedTx = Math.max(...points);
  const hiders: Hider[] = [];
  let heldTx = reachedTx;
  for (const a of artifacts) {
    if (a === root || !newerThanRoot(a, root)) continue;
    const held = a.damage === 'unreadable' ? Infinity : isEmpty(a) ? 0 : a.highestTx;
    heldTx = Math.max(heldTx, held);
    if (held > reachedTx) hiders.push({ artifact: a, cause: !usable(a, view) ? 'damaged' : a.kind === 'FULL' ? 'fullAfterPoint' : 'gap' });
  }
  return { root, reachedTx, reachedPoints: points, heldTx, hiders };
}

/**
 * Whether `a` may be newer than `root`. An unreadable artifact's time is known only to the second
 * in its name: one of the root's second may have been taken just after it, so it counts as newer.
 */
function newerThanRoot(a: ModelArtifact, root: ModelArtifact): boolean {
  if (a.damage !== 'unreadable') return olderFirst(a, root) > 0;
  const nameSecond = /-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})(?:_\d+)?\.backup$/.exec(a.name)?.[1];
  if (nameSecond === undefined) return olderFirst(a, root) > 0;
  return nameSecond >= root.createdAt.slice(0, 19).replaceAll(':', '-');
}

/** Every tx reached from `root` over `diffs` (non-empty, usable). */
export function reachFrom(root: ModelArtifact, diffs: readonly ModelArtifact[]): Set<number> {
  const points = new Set([root.highestTx]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const d of diffs) {
      if (points.has(d.highestTx)) continue;
      if ([...points].some((p) => d.lowestTx - 1 <= p && p < d.highestTx)) {
        points.add(d.highestTx);
        grew = true;
      }
    }
  }
  return points;
}

export type RestoreExpectation =
  | { ok: true; tx: number; why: string }
  | { ok: false; causes: RefusalCause[]; names: string[]; why: string };

function refuse(why: string, hiders: readonly Hider[], extra: RefusalCause[] = []): RestoreExpectation {
  return { ok: false, causes: [...new Set([...hiders.map((h) => h.cause), ...extra])], names: hiders.map((h) => h.artifact.name), why };
}

/**
 * What `restore --from-path=<folder> [--restore-until=<untilTx>]` must do ('intact' view). The
 * 'readable' view is what the restore planner sees before it reads a block: when both refuse, either
 * reason is a true one.
 */
export function expectRestore(artifacts: readonly ModelArtifact[], untilTx?: number, view: View = 'intact'): RestoreExpectation {
  const present = artifacts;
  if (untilTx === undefined) {
    const c = chainView(present, view);
    if (!c.root) return { ok: false, causes: ['noChain', 'damaged'], names: [], why: `no ${view} FULL` };
    if (c.heldTx > c.reachedTx) return refuse(`reach ${c.reachedTx} from "${c.root.name}" but the folder holds ${c.heldTx}`, c.hiders);
    return { ok: true, tx: c.reachedTx, why: `reach ${c.reachedTx} from "${c.root.name}", nothing newer held` };
  }
  const c = chainView(present, view, (f) => f.highestTx < untilTx);
  if (!c.root) {
    const later = present.filter((a) => a.kind === 'FULL' && a.damage !== 'unreadable' && a.highestTx >= untilTx);
    return { ok: false, causes: ['fullAfterPoint', 'noChain', 'damaged'], names: later.map((a) => a.name), why: `no ${view} FULL before tx ${untilTx}` };
  }
  if (untilTx - 1 <= c.reachedTx) return { ok: true, tx: untilTx - 1, why: `reach ${c.reachedTx} >= ${untilTx - 1} from "${c.root.name}"` };
  if (c.heldTx > c.reachedTx) return refuse(`reach ${c.reachedTx} from "${c.root.name}" < ${untilTx - 1} and the folder holds ${c.heldTx}`, c.hiders);
  return { ok: true, tx: c.reachedTx, why: `reach ${c.reachedTx} from "${c.root.name}" < ${untilTx - 1}, nothing newer held` };
}

/** What the server offers a backup: its last tx over the run (a window when the workload runs during it) and its oldest log entry. */
export interface ServerWindow {
  txBefore: number;
  txAfter: number;
  oldestTxInLog: number;
}

/** One acceptable outcome of a backup run. */
export type BackupShape =
  | { kind: 'FULL'; fallback: 'none' | 'any' | RegExp; highestTx: [number, number] }
  | { kind: 'DIFF'; lowestTx: number; highestTx: [number, number] }
  | { kind: 'EMPTY' }
  | { kind: 'FAIL'; reason: RegExp };

export type BackupType = 'FULL' | 'DIFF' | 'AUTO';

/**
 * Every acceptable outcome of `backup --type=<type>` against the folder. An artifact with a byte
 * flipped inside a block may look intact to the planner or, when it reads the DIFF's records at a
 * join point, unreadable: every combination is allowed.
 */
export function expectBackup(artifacts: readonly ModelArtifact[], type: BackupType, server: ServerWindow): BackupShape[] {
  const full = (fallback: 'none' | 'any' | RegExp): BackupShape => ({ kind: 'FULL', fallback, highestTx: [server.txBefore, server.txAfter] });
  if (type === 'FULL') return [full('none')];
  const flipped = artifacts.filter((a) => a.damage === 'contents' && a.kind === 'DIFF');
  const variants: ModelArtifact[][] = [];
  const combos = flipped.length <= 4 ? 1 << flipped.length : 1;
  for (let mask = 0; mask < combos; mask++) {
    variants.push(artifacts.map((a) => {
      const i = flipped.indexOf(a);
      return i >= 0 && mask & (1 << i) ? { ...a, damage: 'unreadable' as const } : a;
    }));
  }
  const shapes: BackupShape[] = [];
  for (const v of variants) shapes.push(...expectBackupReadable(v, type, server));
  return shapes;
}

function expectBackupReadable(artifacts: readonly ModelArtifact[], type: 'DIFF' | 'AUTO', server: ServerWindow): BackupShape[] {
  const c = chainView(artifacts, 'readable');
  const fail = (reason: RegExp): BackupShape[] => (type === 'DIFF' ? [{ kind: 'FAIL', reason }] : [{ kind: 'FULL', fallback: reason, highestTx: [server.txBefore, server.txAfter] }]);
  if (!c.root) {
    return type === 'DIFF'
      ? [{ kind: 'FAIL', reason: /require that a full backup|have no full artifact to continue from/ }]
      : [{ kind: 'FULL', fallback: 'any', highestTx: [server.txBefore, server.txAfter] }];
  }
  if (c.heldTx > c.reachedTx) return fail(/the backup chain in the target cannot be continued/);
  const tip = c.reachedTx;
  const out: BackupShape[] = [];
  // The server's last tx at the moment the run lists it lies in [txBefore, txAfter].
  if (tip >= server.txBefore) out.push({ kind: 'EMPTY' });
  if (server.txAfter > tip) {
    if (server.oldestTxInLog > tip + 1) out.push(...fail(new RegExp(`the server no longer has the transactions after ${tip} \\(its oldest transaction log entry is ${server.oldestTxInLog}\\)`)));
    else out.push({ kind: 'DIFF', lowestTx: tip + 1, highestTx: [Math.max(tip + 1, server.txBefore), server.txAfter] });
  }
  return out;
}

export type AggregateExpectation =
  | { kind: 'ok'; tx: number; why: string }
  | { kind: 'nothing'; why: string }
  | {
      kind: 'fail';
      causes: RefusalCause[];
      names: string[];
      why: string;
      /**
       * Also right: "nothing to aggregate". Aggregate plans from headers and trailers and reads blocks
       * only to aggregate; when those show a single FULL and nothing newer, it reads nothing, so it
       * cannot see a byte flipped inside that FULL's blocks (`backup verify` is the tool that does).
       */
      nothingAllowed?: boolean;
    }
  /** An empty DIFF named: the product restores up to the artifact it followed; only the safety checks apply. */
  | { kind: 'any'; why: string };

/** What `aggregate-backup --from-path=<folder or one artifact>` must do (safety checks are the test's). */
export function expectAggregate(artifacts: readonly ModelArtifact[], named?: ModelArtifact): AggregateExpectation {
  if (!named) {
    const r = expectRestore(artifacts);
    if (!r.ok) {
      const planned = chainView(artifacts, 'readable');
      const nothingAllowed = planned.root !== null && planned.heldTx <= planned.reachedTx && planned.reachedTx === planned.root.highestTx;
      return { kind: 'fail', causes: r.causes, names: r.names, why: r.why, ...(nothingAllowed ? { nothingAllowed } : {}) };
    }
    const c = chainView(artifacts, 'intact');
    if (r.tx === c.root!.highestTx) return { kind: 'nothing', why: `the chain is the single FULL "${c.root!.name}"` };
    return { kind: 'ok', tx: r.tx, why: r.why };
  }
  if (named.damage === 'unreadable') return { kind: 'fail', causes: ['damaged'], names: [named.name], why: 'the named artifact cannot be read' };
  if (named.kind === 'FULL') return { kind: 'nothing', why: 'a FULL was named' };
  if (isEmpty(named)) return { kind: 'any', why: 'an empty DIFF was named' };
  const fulls = artifacts.filter((a) => a.kind === 'FULL' && a.damage === null).sort(olderFirst).reverse();
  const diffs = artifacts.filter((a) => a.kind === 'DIFF' && !isEmpty(a) && a.damage === null);
  for (const f of fulls) {
    if (reachFrom(f, diffs).has(named.highestTx)) {
      return f.highestTx === named.highestTx
        ? { kind: 'nothing', why: `"${f.name}" already ends at tx ${named.highestTx}` }
        : { kind: 'ok', tx: named.highestTx, why: `"${f.name}" reaches tx ${named.highestTx}` };
    }
  }
  return { kind: 'fail', causes: ['gap', 'noChain', 'damaged'], names: [named.name], why: `no intact FULL reaches tx ${named.highestTx}` };
}

/** Whether `backup verify --from-path=<folder>` must exit 0. */
export function expectVerifyClean(artifacts: readonly ModelArtifact[]): { clean: boolean; why: string } {
  const damaged = artifacts.filter((a) => a.damage !== null);
  if (damaged.length > 0) return { clean: false, why: `damaged: ${damaged.map((a) => a.name).join(', ')}` };
  if (artifacts.length === 0) return { clean: true, why: 'empty folder' };
  const c = chainView(artifacts, 'intact');
  if (!c.root) return { clean: false, why: 'no FULL' };
  if (c.heldTx > c.reachedTx) return { clean: false, why: `reach ${c.reachedTx}, held ${c.heldTx}` };
  return { clean: true, why: `reach ${c.reachedTx}` };
}

/** One line per artifact, oldest first, for failure messages. */
export function describeModel(artifacts: readonly ModelArtifact[]): string {
  return [...artifacts].sort(olderFirst).map((a) =>
    `  ${a.name}  ${a.kind.padEnd(4)} ${isEmpty(a) ? 'empty'.padEnd(11) : `${a.lowestTx}..${a.highestTx}`.padEnd(11)} ${a.createdAt}  ${a.damage ?? 'intact'}  (${a.madeBy})`).join('\n');
}
