/**
 * What one user may do on one database, compiled from the privileges of their roles. Answers are
 * memoised per (action, element, property) because the secure graph asks the same questions for
 * every node of a scan. Refusals become Forbidden errors naming the missing privilege.
 */
import { QuiverError } from '../util/errors.js';
import { actionAndAncestors, decide, type Privilege, type Target } from './privilege-model.js';

/** Who is asking: the user and all their roles (PUBLIC included), sorted. */
export interface Principal {
  user: string;
  roles: readonly string[];
}

/** A property name nobody can declare, to ask "may every property be read?". */
const anyPropertyProbe = '\u0000*';

/** A label name nobody can declare, to ask "may every label be set?". */
const anyLabelProbe = '\u0000*';

/** The graph write actions the secure graph checks per element. */
const elementWriteActions = ['create_element', 'delete_element', 'set_label', 'remove_label', 'set_property'] as const;

/** Those actions and every compound action containing them (write, merge, ALL GRAPH PRIVILEGES). */
const elementWriteActionsAndAncestors: ReadonlySet<string> = new Set(elementWriteActions.flatMap((a) => [...actionAndAncestors(a)]));

export class DatabasePermissions {
  private readonly memo = new Map<string, boolean>();
  /** Every node and relationship and every property is readable: reads need no filtering. */
  readonly fullRead: boolean;

  /**
   * Every element write is allowed, whatever its labels, type or properties: no DENY touches a
   * write action, and each is granted on all nodes and relationships (`NODE(*)`, `RELATIONSHIP(*)`)
   * for all properties and labels. Decided once, so that the secure graph needs no per-write
   * decision (as `fullRead` spares reads their filtering); any DENY on a write action, or a grant
   * narrowed to some labels, types or properties, leaves every write checked one by one.
   */
  readonly fullWrite: boolean;

  constructor(
    readonly principal: Principal,
    readonly database: string,
    /** Privileges of the principal's roles that apply to this database. */
    readonly privileges: readonly Privilege[],
  ) {
    this.fullRead =
      !privileges.some((p) => p.access === 'DENIED' && ['traverse', 'read', 'match', 'graph_actions'].includes(p.action)) &&
      this.allows('traverse', { element: { kind: 'node', labels: [] } }) &&
      this.allows('traverse', { element: { kind: 'relationship', type: '' } }) &&
      this.allows('read', { element: { kind: 'node', labels: [] }, property: anyPropertyProbe }) &&
      this.allows('read', { element: { kind: 'relationship', type: '' }, property: anyPropertyProbe });
    const node = { kind: 'node' as const, labels: [] };
    const rel = { kind: 'relationship' as const, type: '' };
    this.fullWrite =
      !privileges.some((p) => p.access === 'DENIED' && elementWriteActionsAndAncestors.has(p.action)) &&
      this.allows('create_element', { element: node }) &&
      this.allows('delete_element', { element: node }) &&
      this.allows('set_property', { element: node, property: anyPropertyProbe }) &&
      this.allows('set_label', { element: node, label: anyLabelProbe }) &&
      this.allows('remove_label', { element: node, label: anyLabelProbe }) &&
      this.allows('create_element', { element: rel }) &&
      this.allows('delete_element', { element: rel }) &&
      this.allows('set_property', { element: rel, property: anyPropertyProbe });
  }

  allows(action: string, target: Target = {}): boolean {
    const e = target.element;
    const key = [action, e ? (e.kind === 'node' ? 'n:' + e.labels.join('\u0001') : 'r:' + e.type) : '', target.property ?? '', target.label ?? ''].join('\u0000');
    let v = this.memo.get(key);
    if (v === undefined) {
      v = decide(this.privileges, action, target);
      this.memo.set(key, v);
    }
    return v;
  }

  canTraverseNode(labels: readonly string[]): boolean {
    return this.fullRead || this.allows('traverse', { element: { kind: 'node', labels } });
  }

  canReadNodeProperty(labels: readonly string[], property: string): boolean {
    return this.fullRead || this.allows('read', { element: { kind: 'node', labels }, property });
  }

  canTraverseRelationship(type: string): boolean {
    return this.fullRead || this.allows('traverse', { element: { kind: 'relationship', type } });
  }

  canReadRelationshipProperty(type: string, property: string): boolean {
    return this.fullRead || this.allows('read', { element: { kind: 'relationship', type }, property });
  }

  /**
   * A write on a node is allowed when it is allowed for each of its labels (for a node without
   * labels: for all nodes, `NODE(*)`), so that a DENY on any label refuses it.
   */
  allowsOnNode(action: string, labels: readonly string[], extra: Omit<Target, 'element'> = {}): boolean {
    if (this.fullWrite && elementWriteActionsAndAncestors.has(action)) return true;
    if (labels.length === 0) return this.allows(action, { ...extra, element: { kind: 'node', labels: [] } });
    return labels.every((l) => this.allows(action, { ...extra, element: { kind: 'node', labels: [l] } }));
  }

  allowsOnRelationship(action: string, type: string, extra: Omit<Target, 'element'> = {}): boolean {
    if (this.fullWrite && elementWriteActionsAndAncestors.has(action)) return true;
    return this.allows(action, { ...extra, element: { kind: 'relationship', type } });
  }

  /** The Forbidden error for `what` (e.g. "Create node with labels 'Secret'"). */
  forbidden(what: string): QuiverError {
    return forbiddenError(`${what} on database '${this.database}'`, this.principal);
  }
}

export function forbiddenError(what: string, principal: Principal): QuiverError {
  // Neo4j's wording, without a hint: clients match on this message.
  return new QuiverError('Forbidden', `${what} is not allowed for user '${principal.user}' with roles [${principal.roles.join(', ')}].`);
}
