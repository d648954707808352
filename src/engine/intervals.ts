/**
 * Sets of integers as sorted, disjoint, non-adjacent inclusive intervals. Ports use numbers and addresses
 * use bigints (IPv6 needs 128 bits); all operations are linear merges.
 */
export type Interval<T extends number | bigint> = readonly [T, T];
export type IntervalSet<T extends number | bigint> = readonly Interval<T>[];

function successor<T extends number | bigint>(value: T): T {
  return (typeof value === 'bigint' ? value + 1n : (value as number) + 1) as T;
}

function predecessor<T extends number | bigint>(value: T): T {
  return (typeof value === 'bigint' ? value - 1n : (value as number) - 1) as T;
}

export function normalize<T extends number | bigint>(intervals: Iterable<Interval<T>>): IntervalSet<T> {
  const sorted = [...intervals].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [T, T][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= successor(last[1])) {
      if (hi > last[1]) last[1] = hi;
    } else {
      out.push([lo, hi]);
    }
  }
  return out;
}

export function union<T extends number | bigint>(a: IntervalSet<T>, b: IntervalSet<T>): IntervalSet<T> {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return normalize([...a, ...b]);
}

export function intersect<T extends number | bigint>(a: IntervalSet<T>, b: IntervalSet<T>): IntervalSet<T> {
  const out: [T, T][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [alo, ahi] = a[i] as Interval<T>;
    const [blo, bhi] = b[j] as Interval<T>;
    const lo = alo > blo ? alo : blo;
    const hi = ahi < bhi ? ahi : bhi;
    if (lo <= hi) out.push([lo, hi]);
    if (ahi < bhi) i++;
    else j++;
  }
  return out;
}

export function subtract<T extends number | bigint>(a: IntervalSet<T>, b: IntervalSet<T>): IntervalSet<T> {
  const out: [T, T][] = [];
  let j = 0;
  for (const [alo, ahi] of a) {
    let lo = alo;
    while (j < b.length && (b[j] as Interval<T>)[1] < lo) j++;
    let k = j;
    let open = true;
    while (k < b.length && (b[k] as Interval<T>)[0] <= ahi) {
      const [blo, bhi] = b[k] as Interval<T>;
      if (blo > lo) out.push([lo, predecessor(blo)]);
      if (bhi >= ahi) {
        open = false;
        break;
      }
      lo = successor(bhi);
      k++;
    }
    if (open) out.push([lo, ahi]);
  }
  return out;
}

export function contains<T extends number | bigint>(set: IntervalSet<T>, value: T): boolean {
  let lo = 0;
  let hi = set.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = set[mid] as Interval<T>;
    if (value < start) hi = mid - 1;
    else if (value > end) lo = mid + 1;
    else return true;
  }
  return false;
}
