/** Quiver's own version, read from package.json once. */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    const url = new URL('../../../package.json', import.meta.url);
    const alt = new URL('../../package.json', import.meta.url);
    for (const u of [url, alt]) {
      try {
        const p = JSON.parse(readFileSync(u, 'utf8')) as { name?: string; version?: string };
        if (p.name === 'quiver' && p.version) return p.version;
      } catch {
        /* try the next location */
      }
    }
  } catch {
    /* fall through */
  }
  return '0.0.0';
}

export const toolVersion = readVersion();
