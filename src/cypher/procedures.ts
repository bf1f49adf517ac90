/**
 * The built-in procedures callable with CALL: db.labels() (labels in use), db.relationshipTypes(),
 * db.propertyKeys() (every name the database has seen) and dbms.components() (which drivers and
 * tools probe).
 */
import type { GraphRead } from '../kernel/api.js';
import type { Value } from '../values/value.js';

interface ProcedureSpec {
  columns: string[];
  run(graph: GraphRead, args: Value[]): Value[][];
}

/** Reported by dbms.components(); the Bolt server agent reports the same version. */
export const neo4jCompatibleVersion = '5.26.0';

const procedures = new Map<string, ProcedureSpec>([
  // Neo4j 5 lists the labels in use: a label whose last node lost it (or was deleted) is left out.
  ['db.labels', { columns: ['label'], run: (g) => [...g.labels()].filter((l) => labelInUse(g, l)).sort().map((l) => [l]) }],
  ['db.relationshiptypes', { columns: ['relationshipType'], run: (g) => [...g.relationshipTypes()].sort().map((t) => [t]) }],
  ['db.propertykeys', { columns: ['propertyKey'], run: (g) => [...g.propertyKeys()].sort().map((k) => [k]) }],
  ['dbms.components', { columns: ['name', 'versions', 'edition'], run: () => [['Neo4j Kernel', [neo4jCompatibleVersion], 'community']] }],
]);

function labelInUse(g: GraphRead, label: string): boolean {
  for (const _ of g.nodeIdsByLabel(label)) return true;
  return false;
}

/** Output columns of a procedure, or undefined when there is no such procedure. */
export function procedureColumns(name: string): string[] | undefined {
  return procedures.get(name.toLowerCase())?.columns;
}

export function runProcedure(name: string, graph: GraphRead, args: Value[]): Value[][] {
  const p = procedures.get(name.toLowerCase());
  if (!p) throw new Error(`procedure ${name} vanished after planning`);
  return p.run(graph, args);
}
