import type { Labels } from './types.ts';

/**
 * A parsed Calico selector expression (docs.tigera.io/calico/latest/reference/resources/networkpolicy,
 * "Selectors"). `source` is the text as written, for messages and explanations.
 */
export type SelectorExpr =
  | { op: 'all' }
  | { op: 'global' }
  | { op: 'has'; key: string }
  | { op: '==' | '!=' | 'contains' | 'starts with' | 'ends with'; key: string; value: string }
  | { op: 'in' | 'not in'; key: string; values: readonly string[] }
  | { op: '!'; expr: SelectorExpr }
  | { op: '&&' | '||'; left: SelectorExpr; right: SelectorExpr };

export interface CalicoSelector {
  source: string;
  expr: SelectorExpr;
}

/**
 * Whether a selector matches a labelled thing. `global` is true for non-namespaced things (a
 * GlobalNetworkSet, or the non-namespaced scope a `namespaceSelector: global()` names), which only
 * `global()` matches. `!=` and `not in` hold for an absent key, as in Calico.
 */
export function calicoMatches(expr: SelectorExpr, labels: Labels, global = false): boolean {
  switch (expr.op) {
    case 'all':
      return true;
    case 'global':
      return global;
    case 'has':
      return Object.hasOwn(labels, expr.key);
    case '!':
      return !calicoMatches(expr.expr, labels, global);
    case '&&':
      return calicoMatches(expr.left, labels, global) && calicoMatches(expr.right, labels, global);
    case '||':
      return calicoMatches(expr.left, labels, global) || calicoMatches(expr.right, labels, global);
  }
  const value = Object.hasOwn(labels, expr.key) ? labels[expr.key] : undefined;
  switch (expr.op) {
    case '==':
      return value === expr.value;
    case '!=':
      return value !== expr.value;
    case 'in':
      return value !== undefined && expr.values.includes(value);
    case 'not in':
      return value === undefined || !expr.values.includes(value);
    case 'contains':
      return value?.includes(expr.value) ?? false;
    case 'starts with':
      return value?.startsWith(expr.value) ?? false;
    case 'ends with':
      return value?.endsWith(expr.value) ?? false;
  }
}

/** The selector written back in one canonical form: equal keys mean equal selectors, for caching. */
export function selectorKey(expr: SelectorExpr): string {
  switch (expr.op) {
    case 'all':
    case 'global':
      return `${expr.op}()`;
    case 'has':
      return `has(${expr.key})`;
    case '!':
      return `!(${selectorKey(expr.expr)})`;
    case '&&':
    case '||':
      return `(${selectorKey(expr.left)} ${expr.op} ${selectorKey(expr.right)})`;
    case 'in':
    case 'not in':
      return `${expr.key} ${expr.op} {${expr.values.map((v) => JSON.stringify(v)).join(',')}}`;
    default:
      return `${expr.key} ${expr.op} ${JSON.stringify(expr.value)}`;
  }
}
