/**
 * Checking a backup without trusting it: every checksum of every artifact (`backup verify`), the chain
 * model's view of the folder (forks, gaps, artifacts that hide newer transactions), and for
 * `database check --from-path` the chain restored into a staging folder and its graph checked for
 * consistency. The CLI commands (src/cli/check-command.ts) only parse options and print.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDatabaseSettings } from '../../kernel/database.js';
import { checkStoreConsistency, type ConsistencyReport } from '../../storage/consistency.js';
import { GraphStore } from '../../storage/store.js';
import { resolveArtifactPath, type TargetSettings } from '../../targets/resolve.js';
import type { BackupTarget } from '../../targets/target.js';
import { compareText } from '../../util/compare-text.js';
import { toQuiverError } from '../../util/errors.js';
import { parseArtifactFileName } from '../artifact/artifact-name.js';
import { verifyArtifact } from '../artifact/artifact-reader.js';
import { readInfos, withJoinPoints } from '../catalog/catalog.js';
import type { ArtifactInfo } from '../artifact/artifact-info.js';
import { analyseChain, type Catalog, explainUnreachable, type UnreadableArtifact } from '../plan/chain.js';
import { planRestore } from '../plan/restore-plan.js';
import { buildStagedStore } from './staged-store.js';

type Log = (l: 'info' | 'warn' | 'error', m: string) => void;

/**
 * Every checksum of every named artifact, then the chain model over what verified: forks, gaps and
 * artifacts that hide newer transactions are problems; each database's path is logged.
 */
export async function verifyAll(target: BackupTarget, names: string[], log: Log): Promise<{ catalog: Catalog; problems: string[] }> {
  const problems: string[] = [];
  const verified: ArtifactInfo[] = [];
  const failed: UnreadableArtifact[] = [];
  for (const n of names) {
    try {
      const v = await verifyArtifact(target, n);
      verified.push(v.info);
      log('info', `verified ${n}: ${v.blockCount} block(s), every checksum matches`);
    } catch (e) {
      failed.push({ name: n, uri: target.uri(n), message: toQuiverError(e).message });
      problems.push(toQuiverError(e).message);
    }
  }
  // The verified headers and trailers make the catalog: nothing is read twice.
  const catalog: Catalog = await withJoinPoints(verified, failed, new Map(verified.map((i) => [i.uri, target])));
  for (const u of catalog.unreadable.slice(failed.length)) problems.push(u.message);
  const databases = [...new Set(catalog.artifacts.map((a) => a.header.databaseName))].sort(compareText);
  for (const databaseName of databases) {
    const analysis = analyseChain(catalog, { databaseName });
    if (!analysis) {
      const orphan = catalog.artifacts.find((a) => a.header.databaseName === databaseName)!;
      problems.push(explainUnreachable(catalog, orphan));
      continue;
    }
    log('info', `chain of '${databaseName}' (${analysis.databaseId}): ${analysis.path.map((a) => a.name).join(' → ')} reaches tx ${analysis.tip.tx}`);
    for (const f of analysis.forks) problems.push(f.message);
    for (const l of analysis.leftOut) {
      if (l.hidesNewer && l.kind !== 'unreadable' && l.kind !== 'otherHistory') problems.push(l.reason);
      else if (!l.hidesNewer && l.kind !== 'unreadable') log('info', `not on the chain of '${databaseName}': "${l.name}": ${l.reason}`);
    }
  }
  return { catalog, problems };
}

export interface BackupCheck {
  /** The artifacts restored, FULL first; empty when the chain could not be built. */
  chain: string[];
  consistency: ConsistencyReport;
  problems: string[];
}

/** `database check --from-path`: verify the artifacts of `name`, restore their chain aside, check its graph. */
export async function checkBackup(fromPath: string, name: string, tempPath: string | undefined, log: Log, targetSettings?: TargetSettings): Promise<BackupCheck> {
  const problems: string[] = [];
  let chain: string[] = [];
  let consistency: ConsistencyReport;
  const { target, fileName } = await resolveArtifactPath(fromPath, targetSettings);
  const names = fileName ? [fileName] : (await target.list()).map((e) => e.name);
  const relevant: string[] = [];
  const read = await readInfos([{ target, names }]);
  for (const info of read.artifacts) if (info.header.databaseName === name) relevant.push(info.name);
  for (const u of read.unreadable) {
    // Unreadable: its file name still tells whether it belongs to this database.
    const owner = parseArtifactFileName(u.name)?.databaseName;
    if (owner === undefined || owner === name) problems.push(u.message);
    else log('warn', `ignoring "${u.name}" (another database's artifact): ${u.message}`);
  }
  const verified = await verifyAll(target, relevant, log);
  problems.push(...verified.problems);
  const staging = join(tempPath ?? tmpdir(), `.check-${name}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging, { recursive: true });
  try {
    const step = planRestore({ catalog: verified.catalog, namedArtifact: fileName, sourceDatabase: name, until: null });
    chain = step.artifacts.map((a) => a.name);
    await buildStagedStore(step, new Map(step.artifacts.map((a) => [a.uri, target])), join(staging, 'store'), join(staging, 'tx'), null, defaultDatabaseSettings, log);
    const store = GraphStore.open(join(staging, 'store'), { readOnly: true });
    try {
  consistency = checkStoreConsistency(store);
    } finally {
  store.close();
    }
  } catch (e) {
    // A chain that cannot be built is a finding like any other: it goes in the report with the
    // problems found so far (often the reason, e.g. a damaged full artifact).
    const err = toQuiverError(e);
    if (err.code === 'Internal') throw e;
    problems.push(`the backup cannot be restored to check its graph: ${err.message}`);
    consistency = { nodes: 0, relationships: 0, problems: [], problemCount: 0 };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { chain, consistency, problems };
}
