/**
 * Reads Neo4j-style configuration sources into ordered key/value entries: a `key=value` file, or a folder
 * holding one file per setting (file name = key, trimmed content = value, as Kubernetes mounts secrets).
 * It checks syntax only (which keys exist and what their values mean is for the loader); every syntax
 * problem of a file is reported at once.
 */
import { readdirSync, readFileSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { QuiverError } from '../util/errors.js';
import { confFileBytesMax, confFolderEntriesMax } from './limits.js';
import { type Problem, throwProblems } from './problems.js';

export interface ConfEntry {
  key: string;
  /** Trimmed; may be empty. */
  value: string;
  /** The file the entry came from; for a folder source, the file named after the key. */
  path: string;
  /** 1-based line number; `undefined` for a folder entry. */
  line: number | undefined;
}

/** Neo4j lets this one key repeat (its values add up); it is not ours, but a copied neo4j.conf should not fail on it. */
const repeatableKeys: ReadonlySet<string> = new Set(['server.jvm.additional']);

/**
 * Parses the text of one file: `key=value` lines, whitespace trimmed around key and value, blank lines and
 * lines starting with `#` ignored. A `#` later in a line is part of the value (as in Neo4j).
 * Throws `ConfigInvalid` naming the file and lines for: a line without `=`, an empty key, a key given twice.
 */
export function parseConfText(text: string, path: string): ConfEntry[] {
  const entries: ConfEntry[] = [];
  const problems: Problem[] = [];
  const firstLineOfKey = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [index, rawLine] of lines.entries()) {
    const line = index + 1;
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const equals = trimmed.indexOf('=');
    if (equals === -1) {
      problems.push({
        // The line itself is not quoted: it may be a password written with the wrong separator.
        message: `cannot read config file "${path}": line ${line} is not key=value`,
        hint: trimmed.includes(':')
          ? 'write the setting as key=value (Quiver does not accept ":" as a separator)'
          : 'write each setting as key=value; start comments with "#"',
      });
      continue;
    }
    const key = trimmed.slice(0, equals).trim();
    const value = trimmed.slice(equals + 1).trim();
    if (key === '') {
      problems.push({ message: `cannot read config file "${path}": line ${line} has no key before "="` });
      continue;
    }
    const firstLine = firstLineOfKey.get(key);
    if (firstLine !== undefined && !repeatableKeys.has(key)) {
      problems.push({
        message: `cannot read config file "${path}": setting "${key}" is declared twice, on lines ${firstLine} and ${line}`,
        hint: 'keep one of them',
      });
      continue;
    }
    firstLineOfKey.set(key, line);
    entries.push({ key, value, path, line });
  }
  throwProblems(problems);
  return entries;
}

/**
 * Reads a config source: a file, or a folder of one file per setting (hidden files skipped, subfolders
 * skipped with a warning). Returns `undefined` when nothing exists at `path`; whether that is fine is
 * the caller's call.
 */
export function readConfSource(path: string, onWarning: (message: string) => void): ConfEntry[] | undefined {
  const stats = statOrUndefined(path);
  if (stats === undefined) return undefined;
  if (stats.isDirectory()) return readConfFolder(path, onWarning);
  return parseConfText(readBounded(path, stats), path);
}

function readConfFolder(folder: string, onWarning: (message: string) => void): ConfEntry[] {
  const names = readdirSync(folder).sort();
  if (names.length > confFolderEntriesMax) {
    throw new QuiverError(
      'ConfigInvalid',
      `cannot read config folder "${folder}": it holds ${names.length} entries, more than the ${confFolderEntriesMax} allowed`,
    );
  }
  const entries: ConfEntry[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue; // Kubernetes keeps its bookkeeping (..data, ..2024_…) in hidden entries
    const path = join(folder, name);
    const stats = statOrUndefined(path); // follows symlinks, which is how secrets are mounted
    if (stats === undefined) continue; // a dangling symlink is not a setting
    if (!stats.isFile()) {
      onWarning(`ignoring "${path}" in config folder "${folder}": a config folder holds one regular file per setting`);
      continue;
    }
    entries.push({ key: name, value: readBounded(path, stats).replace(/^\uFEFF/, '').trim(), path, line: undefined });
  }
  return entries;
}

function readBounded(path: string, stats: Stats): string {
  if (stats.size > confFileBytesMax) {
    throw new QuiverError(
      'ConfigInvalid',
      `cannot read config file "${path}": it is ${stats.size} bytes, more than the ${confFileBytesMax} allowed`,
    );
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new QuiverError('ConfigInvalid', `cannot read config file "${path}": ${(e as Error).message}`, { cause: e });
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new QuiverError('ConfigInvalid', `cannot read config file "${path}": ${(e as Error).message}`, { cause: e });
  }
}
