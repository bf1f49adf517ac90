/**
 * Placing a staged restore at its destination, all or nothing: what it replaces is moved aside first,
 * and a failure puts everything back.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { QuiverError } from '../../util/errors.js';

/**
 * Moves the staged folders to their destinations, first moving what they replace aside into
 * `trash` (inside the staging folder, removed with it). If any step fails, whatever was placed is
 * removed and what was moved aside is put back: the destination ends as it began.
 */
export function moveIntoPlace(moves: Array<{ staged: string; dest: string }>, trash: string, replace: boolean): void {
  const aside: Array<{ dest: string; kept: string }> = [];
  const placed: string[] = [];
  try {
    if (replace) {
      mkdirSync(trash, { recursive: true });
      for (const [i, m] of moves.entries()) {
        if (!existsSync(m.dest)) continue;
        const kept = join(trash, String(i));
        renameSync(m.dest, kept);
        aside.push({ dest: m.dest, kept });
      }
    }
    for (const m of moves) {
      mkdirSync(dirname(m.dest), { recursive: true });
      placed.push(m.dest);
      moveDir(m.staged, m.dest);
    }
  } catch (e) {
    try {
      for (const dest of placed) rmSync(dest, { recursive: true, force: true });
      for (const a of aside) renameSync(a.kept, a.dest);
    } catch (undo) {
      throw new QuiverError('IoError', `cannot move the restored database into place at "${moves[0]!.dest}" (${(e as Error).message}), nor put the replaced one back (${(undo as Error).message})`, {
        cause: e,
        hint: `the replaced database is kept in "${trash}": move its folders back by hand`,
      });
    }
    throw new QuiverError('IoError', `cannot move the restored database into place at "${moves[0]!.dest}": ${(e as Error).message}; the destination was left as it was`, {
      cause: e,
      hint: 'check that the --to-path-data and --to-path-txn folders can be created and written',
    });
  }
}

function moveDir(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    // --temp-path or --to-path-txn on another file system: copy, then remove.
    cpSync(from, to, { recursive: true });
    rmSync(from, { recursive: true, force: true });
  }
}

