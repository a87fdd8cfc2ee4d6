/**
 * Whether one selector matches everything another one matches: the question lint asks to find
 * entries that can never decide anything because an earlier rule always matches first. Exact
 * answers only; where coverage cannot be told from the patterns alone the answer is "no", so
 * lint never warns about an entry that can fire.
 */
import type { PortRange, Selector, TransportMatch } from '../model.js';
import { parseCidr, type Cidr } from './cidr.js';
import { parseHostPattern } from './host-pattern.js';

/** Transport bits: 1 TCP, 2 UDP. An absent transport means TCP for allow/decide, both for deny. */
export function transportBits(t: TransportMatch | undefined, isDeny: boolean): number {
  if (t === 'tcp') return 1;
  if (t === 'udp') return 2;
  if (t === 'any') return 3;
  return isDeny ? 3 : 1;
}

function globMatches(glob: string, label: string): boolean {
  const re = new RegExp(
    '^' +
      glob
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^.]*') +
      '$',
  );
  return re.test(label);
}

/** Does the one-label part `outer` match every label that `inner` matches? */
function labelCovers(outer: string, inner: string): boolean {
  if (outer === '*') return inner !== '**';
  if (outer.includes('*')) {
    if (inner === outer) return true;
    return !inner.includes('*') && globMatches(outer, inner);
  }
  return outer === inner;
}

/**
 * Reversed labels (TLD first) of the names a host selector matches; with `includeSubdomains`
 * that is two sets: the apex and `**.` below it.
 */
function nameSets(s: Selector): string[][] | undefined {
  if (s.host === undefined) return undefined;
  const pattern = parseHostPattern(s.host);
  if (!pattern.ok) return undefined;
  const labels = pattern.value.reversedLabels;
  if (pattern.value.kind === 'any') return [['**']];
  return s.includeSubdomains ? [labels, [...labels, '**']] : [labels];
}

/** Every name of `inner` (reversed labels) is matched by `outer`. */
function labelsCover(outer: readonly string[], inner: readonly string[]): boolean {
  for (let i = 0; i < outer.length; i++) {
    const o = outer[i]!;
    if (o === '**') return inner.length > i;
    const n = inner[i];
    if (n === undefined || n === '**') return false;
    if (!labelCovers(o, n)) return false;
  }
  return inner.length === outer.length;
}

function hostsCover(outer: Selector, inner: Selector): boolean {
  const o = nameSets(outer);
  const i = nameSets(inner);
  if (!o || !i) return false;
  return i.every((set) => o.some((outerSet) => labelsCover(outerSet, set)));
}

function cidrOf(text: string): Cidr | undefined {
  const c = parseCidr(text);
  return c.ok ? c.value : undefined;
}

function cidrsCover(outer: string, inner: string): boolean {
  const o = cidrOf(outer);
  const i = cidrOf(inner);
  if (!o || !i || o.family !== i.family) return false;
  if (o.v4 && i.v4) return o.v4.start <= i.v4.start && i.v4.end <= o.v4.end;
  if (o.v6 && i.v6) return o.v6.start <= i.v6.start && i.v6.end <= o.v6.end;
  return false;
}

function portsCover(
  outer: readonly PortRange[] | undefined,
  inner: readonly PortRange[] | undefined,
) {
  if (!outer) return true;
  if (!inner) return false;
  return inner.every((r) => {
    // Walk the range through the outer ranges, which may be split (80, 81-90).
    let next = r.from;
    for (;;) {
      const holder = outer.find((o) => o.from <= next && next <= o.to);
      if (!holder) return false;
      if (holder.to >= r.to) return true;
      next = holder.to + 1;
    }
  });
}

/**
 * Does `outer` match every destination `inner` matches, on the ports of `inner`? Transports are
 * left to the caller (see `transportBits`). Ecosystems must be expanded first.
 */
export function destinationsCover(outer: Selector, inner: Selector): boolean {
  if (outer.ecosystem !== undefined || inner.ecosystem !== undefined) return false;
  if (!portsCover(outer.ports, inner.ports)) return false;
  const outerAny = outer.host === undefined && outer.cidr === undefined;
  if (outerAny) return true;
  if (outer.cidr !== undefined)
    return inner.cidr !== undefined && cidrsCover(outer.cidr, inner.cidr);
  if (inner.cidr !== undefined || inner.host === undefined) return false;
  return hostsCover(outer, inner);
}
