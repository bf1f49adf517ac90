/**
 * Compile-time types of Cypher expressions, for semantic analysis: what an expression is known to
 * evaluate to (or null) before it runs, and which operands and function arguments are known to be
 * of a type the operator or function refuses. It only ever narrows to a type it is sure of; anything
 * it cannot tell (properties, parameters, temporals) is 'any' and left to run time, so it never
 * refuses a query that could succeed.
 */
import type { Expr } from './ast.js';

/** A compile-time type. 'relationships' is the list a variable-length relationship binds. */
export type StaticType = 'node' | 'relationship' | 'relationships' | 'path' | 'list' | 'map' | 'string' | 'integer' | 'float' | 'boolean' | 'any';

export const typeNames: Record<StaticType, string> = {
  node: 'Node', relationship: 'Relationship', relationships: 'List<Relationship>', path: 'Path', list: 'List<T>', map: 'Map',
  string: 'String', integer: 'Integer', float: 'Float', boolean: 'Boolean', any: 'Any',
};

/** What the analysis knows of the variables in scope. */
export interface TypeEnv {
  varType(name: string): StaticType;
  /** The type of the elements of a list variable ('any' when unknown or not a list). */
  elementType(name: string): StaticType;
}

/** A problem found before execution: where, and Neo4j's message. */
export interface TypeProblem {
  pos: number;
  message: string;
}

const isList = (t: StaticType) => t === 'list' || t === 'relationships';
const isNumber = (t: StaticType) => t === 'integer' || t === 'float';

/** The one type all of `types` share, or 'any'. */
function common(types: StaticType[]): StaticType {
  const first = types[0];
  return first !== undefined && types.every((t) => t === first) ? first : 'any';
}

/** Result types of functions whose result type does not depend on their arguments. */
const functionResults: Record<string, StaticType> = {
  labels: 'list', keys: 'list', nodes: 'list', relationships: 'list', range: 'list', collect: 'list', split: 'list', tail: 'list',
  type: 'string', tostring: 'string', tolower: 'string', toupper: 'string', trim: 'string', ltrim: 'string', rtrim: 'string', btrim: 'string',
  substring: 'string', replace: 'string', left: 'string', right: 'string', elementid: 'string', randomuuid: 'string',
  size: 'integer', length: 'integer', id: 'integer', count: 'integer', tointeger: 'integer', sign: 'integer', timestamp: 'integer',
  char_length: 'integer', character_length: 'integer',
  tofloat: 'float', rand: 'float', pi: 'float', e: 'float', sqrt: 'float', exp: 'float', log: 'float', log10: 'float',
  sin: 'float', cos: 'float', tan: 'float', asin: 'float', acos: 'float', atan: 'float', atan2: 'float', degrees: 'float', radians: 'float',
  toboolean: 'boolean', isempty: 'boolean',
  startnode: 'node', endnode: 'node', properties: 'map',
};

/** Element types of the lists functions return. */
const functionElements: Record<string, StaticType> = {
  labels: 'string', keys: 'string', nodes: 'node', relationships: 'relationship', range: 'integer', split: 'string',
};

export function staticType(e: Expr, env: TypeEnv): StaticType {
  switch (e.kind) {
    case 'Var':
      return env.varType(e.name);
    case 'Literal': {
      const v = e.value;
      return typeof v === 'bigint' ? 'integer' : typeof v === 'number' ? 'float' : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'boolean' : 'any';
    }
    case 'ListLit': case 'ListComp': case 'PatternComp':
      return 'list';
    case 'MapLit': case 'MapProjection':
      return 'map';
    case 'HasLabels': case 'Not': case 'IsNull': case 'Quantifier':
      return 'boolean';
    case 'CountStar':
      return 'integer';
    case 'Subquery':
      // A bare pattern used as a value is refused for what it is, not for the type it gives.
      if (e.form === 'predicate') return 'any';
      return e.mode === 'exists' ? 'boolean' : 'integer';
    case 'Neg': {
      const t = staticType(e.operand, env);
      return isNumber(t) ? t : 'any';
    }
    case 'Case':
      return common([...e.whens.map(([, then]) => staticType(then, env)), e.otherwise ? staticType(e.otherwise, env) : 'any']);
    case 'Call': {
      const name = e.name.toLowerCase();
      if ((name === 'head' || name === 'last') && e.args[0]) return elementType(e.args[0], env);
      return functionResults[name] ?? 'any';
    }
    case 'Binary': {
      if (['=', '<>', '<', '>', '<=', '>=', 'AND', 'OR', 'XOR', 'IN', 'STARTS WITH', 'ENDS WITH', 'CONTAINS', '=~'].includes(e.op)) return 'boolean';
      const l = staticType(e.left, env);
      const r = staticType(e.right, env);
      if (e.op === '+') {
        if (isList(l) || isList(r)) return 'list';
        if (l === 'string' && (r === 'string' || isNumber(r))) return 'string';
        if (r === 'string' && isNumber(l)) return 'string';
      }
      if (e.op === '^' && isNumber(l) && isNumber(r)) return 'float';
      if (isNumber(l) && isNumber(r)) return l === 'integer' && r === 'integer' ? 'integer' : 'float';
      return 'any';
    }
    default:
      return 'any';
  }
}

/** The type of the elements of a list expression ('any' when unknown). */
export function elementType(e: Expr, env: TypeEnv): StaticType {
  switch (e.kind) {
    case 'Var':
      return env.varType(e.name) === 'relationships' ? 'relationship' : env.elementType(e.name);
    case 'ListLit':
      return common(e.items.map((i) => staticType(i, env)));
    case 'ListComp':
      return e.map ? 'any' : elementType(e.list, env);
    case 'Call': {
      const name = e.name.toLowerCase();
      if (name === 'collect' && e.args[0]) return staticType(e.args[0], env);
      if (name === 'tail' && e.args[0]) return elementType(e.args[0], env);
      return functionElements[name] ?? 'any';
    }
    default:
      return 'any';
  }
}

/** Arguments some functions refuse, by the type they need (Neo4j's wording). */
const argumentTypes: Record<string, { accepts: StaticType[]; expected: string }> = {
  labels: { accepts: ['node'], expected: 'Node' },
  type: { accepts: ['relationship'], expected: 'Relationship' },
  startnode: { accepts: ['relationship'], expected: 'Relationship' },
  endnode: { accepts: ['relationship'], expected: 'Relationship' },
  nodes: { accepts: ['path'], expected: 'Path' },
  relationships: { accepts: ['path'], expected: 'Path' },
  length: { accepts: ['path', 'string', 'list', 'relationships'], expected: 'Path' },
  size: { accepts: ['string', 'list', 'relationships'], expected: 'String or List<T>' },
  properties: { accepts: ['node', 'relationship', 'map'], expected: 'Map, Node or Relationship' },
  keys: { accepts: ['node', 'relationship', 'map'], expected: 'Map, Node or Relationship' },
  id: { accepts: ['node', 'relationship'], expected: 'Node or Relationship' },
  elementid: { accepts: ['node', 'relationship'], expected: 'Node or Relationship' },
};

/** Types that are never numbers nor temporal values: arithmetic other than `+` refuses them. */
const nonArithmetic: StaticType[] = ['string', 'boolean', 'list', 'relationships', 'map', 'node', 'relationship', 'path'];
/**
 * Types whose properties Neo4j's type checker refuses to read. Scalars and lists are refused only
 * at run time (TypeError), as the TCK expects.
 */
const propertyless: StaticType[] = ['path', 'relationships'];

function mismatch(e: Expr, expected: string, t: StaticType): TypeProblem {
  return { pos: e.pos, message: `Type mismatch: expected ${expected} but was ${typeNames[t]}` };
}

/**
 * The first operand or argument of `e` itself (not of its sub-expressions) whose known type `e`
 * refuses, or null.
 */
export function typeProblem(e: Expr, env: TypeEnv): TypeProblem | null {
  const known = (x: Expr, refused: StaticType[]) => {
    const t = staticType(x, env);
    return refused.includes(t) ? t : null;
  };
  switch (e.kind) {
    case 'Not':
    case 'Binary': {
      if (e.kind === 'Not' || e.op === 'AND' || e.op === 'OR' || e.op === 'XOR') {
        for (const operand of e.kind === 'Not' ? [e.operand] : [e.left, e.right]) {
          const t = staticType(operand, env);
          if (t !== 'boolean' && t !== 'any') return mismatch(operand, 'Boolean', t);
        }
        return null;
      }
      if (e.op === '-' || e.op === '*' || e.op === '/' || e.op === '%' || e.op === '^') {
        for (const operand of [e.left, e.right]) {
          const t = known(operand, nonArithmetic);
          if (t) return mismatch(operand, 'Float or Integer', t);
        }
      }
      if (e.op === 'IN') {
        const t = known(e.right, ['string', 'integer', 'float', 'boolean', 'map', 'node', 'relationship', 'path']);
        if (t) return mismatch(e.right, 'List<T>', t);
      }
      return null;
    }
    case 'Neg': {
      const t = known(e.operand, nonArithmetic);
      return t ? mismatch(e.operand, 'Float or Integer', t) : null;
    }
    case 'Prop': {
      const t = known(e.target, propertyless);
      return t ? mismatch(e.target, 'Map, Node, Relationship, Point, Duration, Date, Time, LocalTime, LocalDateTime or DateTime', t) : null;
    }
    case 'Call': {
      const spec = argumentTypes[e.name.toLowerCase()];
      const arg = e.args[0];
      if (!spec || !arg || e.args.length !== 1) return null;
      const t = staticType(arg, env);
      return t === 'any' || spec.accepts.includes(t) ? null : mismatch(arg, spec.expected, t);
    }
    default:
      return null;
  }
}

/** Whether `t` may be what a predicate (WHERE, a CASE condition) evaluates to. */
export function mayBeBoolean(t: StaticType): boolean {
  return t === 'boolean' || t === 'any';
}

/** What DELETE accepts: a node, relationship or path (or a value not known at compile time). */
export function mayBeDeleted(t: StaticType): boolean {
  return t === 'node' || t === 'relationship' || t === 'path' || t === 'relationships' || t === 'list' || t === 'any';
}
