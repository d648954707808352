/**
 * netpol-analyzer's connectivity-diff cases (../shared/corpus/netpol-analyzer-diff, see its README):
 * phiwall's diff, under that tool's semantics (ipBlocks never match pods, hostNetwork pods policed like
 * others), must agree connection for connection and address for address. External ranges are compared
 * as address sets, however either side cuts them; `{ingress-controller}` lines are that tool's own model
 * and are left out, and so are IPv6 ranges, which it does not analyse.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCidr, V6_OFFSET } from '../engine/addresses.ts';
import { Engine } from '../engine/engine.ts';
import { normalize } from '../engine/intervals.ts';
import { ALL_PORTS, NO_PORTS, type PortSet, portSetOf, portsKey, unionPorts } from '../engine/ports.ts';
import { InputError } from '../load/diagnostics.ts';
import { loadSnapshot } from '../load/snapshot.ts';
import { PROTOCOLS, type Protocol } from '../model/types.ts';
import type { ConnectionPeer } from './connectivity.ts';
import { diffConnectivity } from './diff.ts';

const CORPUS = '../shared/corpus/netpol-analyzer-diff';
const SEMANTICS = { ipBlockMatchesPods: false, hostNetwork: 'pod' } as const;

/**
 * Cases where phiwall and netpol-analyzer differ, and why phiwall's answer stands. The test fails when
 * one of these starts to agree (so the list stays true) or another case starts to differ.
 */
const KNOWN_DIFFERENCES: Record<string, string> = {};

/** Cases whose inputs phiwall refuses (exit 2 with file, line and field), and why. */
const REJECTED: Record<string, string> = {
  'acs-security-demos -> acs-security-demos-added-workloads':
    'three deployment.yaml files of the new version are invalid YAML (a flow sequence in a block ' +
    'collection, line 29/30/38); netpol-analyzer reads past it, the API server would not',
};

interface Fact {
  /** `src -> dst` for workload pairs; `workload egress|ingress` for external ranges. */
  key: string;
  lo?: bigint;
  hi?: bigint;
  answer: string;
}

/** The ports netpol-analyzer speaks of: TCP, UDP and SCTP (it does not model ICMP). */
function l4Key(ports: PortSet): string {
  return portsKey({ ...ports, ICMP: [] });
}

function parsePorts(text: string): PortSet {
  if (text === 'All Connections') return ALL_PORTS;
  if (text === 'No Connections') return NO_PORTS;
  let ports = NO_PORTS;
  let protocol: Protocol | undefined;
  for (const token of text.split(',')) {
    const [first, second] = token.trim().split(' ');
    if (second !== undefined) protocol = first as Protocol;
    const range = second ?? first ?? '';
    assert.ok(protocol && PROTOCOLS.includes(protocol), `a protocol before ${token} in ${text}`);
    const [lo, hi = lo] = range.split('-').map(Number);
    ports = unionPorts(ports, portSetOf(protocol, [[lo as number, hi as number]]));
  }
  return ports;
}

function ip4(text: string): bigint {
  return text.split('.').reduce((acc, octet) => acc * 256n + BigInt(octet), 0n);
}

/** Both sides' facts, with external ranges merged wherever adjacent ranges have the same answers. */
function canonical(facts: readonly Fact[]): string[] {
  const internal = facts.filter((f) => f.lo === undefined).map((f) => `${f.key} : ${f.answer}`);
  const byKey = new Map<string, Fact[]>();
  for (const f of facts.filter((f) => f.lo !== undefined)) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f]);
  const external: string[] = [];
  for (const [key, list] of byKey) {
    const sorted = [...list].sort((a, b) => ((a.lo as bigint) < (b.lo as bigint) ? -1 : 1));
    const runs: Fact[] = [];
    for (const f of sorted) {
      const last = runs[runs.length - 1];
      if (last && (last.hi as bigint) + 1n === f.lo && last.answer === f.answer) last.hi = f.hi;
      else runs.push({ ...f });
    }
    for (const r of runs) external.push(`${key} ${r.lo}-${r.hi} : ${r.answer}`);
  }
  return [...internal, ...external].sort();
}

const LINE =
  /^diff-type: ([\w-]+), source: (.*?), destination: (.*?), ref1: (.*?), ref2: (.*?)(?:, workloads-diff-info: .*)?$/;

function expectedFacts(text: string): Fact[] {
  const facts: Fact[] = [];
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const [, kind, src, dst, ref1, ref2] = match as unknown as string[];
    if (kind === 'non-changed' || src?.includes('{ingress-controller}')) continue;
    const answer = `${l4Key(parsePorts(ref1 as string))} | ${l4Key(parsePorts(ref2 as string))}`;
    const external = (peer: string) => peer.endsWith('[External]');
    if (!external(src as string) && !external(dst as string)) {
      facts.push({ key: `${src} -> ${dst}`, answer });
      continue;
    }
    const [workload, direction, ranges] = external(src as string)
      ? [dst, 'ingress', src as string]
      : [src, 'egress', dst as string];
    for (const range of ranges.replace('[External]', '').split(',')) {
      const [lo, hi] = range.split('-') as [string, string];
      facts.push({ key: `${workload} ${direction}`, lo: ip4(lo), hi: ip4(hi), answer });
    }
  }
  return facts;
}

function phiwallFacts(before: string, after: string): Fact[] {
  const result = diffConnectivity(
    // netpol-analyzer names a workload after the pod's immediate controller (a ReplicaSet).
    new Engine(loadSnapshot([join(CORPUS, 'manifests', before)], { workloadNames: 'controller' }), SEMANTICS),
    new Engine(loadSnapshot([join(CORPUS, 'manifests', after)], { workloadNames: 'controller' }), SEMANTICS),
    new Set(),
  );
  const facts: Fact[] = [];
  const name = (p: ConnectionPeer) => ('workload' in p ? p.workload : '');
  for (const c of result.changes) {
    // netpol-analyzer does not model ICMP: a change to ICMP alone is no change to it.
    if (l4Key(c.before) === l4Key(c.after)) continue;
    const answer = `${l4Key(c.before)} | ${l4Key(c.after)}`;
    const ext = 'external' in c.src ? c.src : 'external' in c.dst ? c.dst : undefined;
    if (!ext) {
      facts.push({ key: `${name(c.src)} -> ${name(c.dst)}`, answer });
      continue;
    }
    const key = 'external' in c.src ? `${name(c.dst)} ingress` : `${name(c.src)} egress`;
    const intervals = normalize(
      ext.external.flatMap((text) => {
        const cidr = parseCidr(text);
        return cidr ? [[cidr.lo, cidr.hi] as const] : [];
      }),
    );
    for (const [lo, hi] of intervals) if (lo < V6_OFFSET) facts.push({ key, lo, hi, answer });
  }
  return facts;
}

function readCases(): { before: string; after: string; expected: string }[] {
  const rows = readFileSync(join(CORPUS, 'cases.tsv'), 'utf8').trim().split('\n').slice(1);
  return rows.map((row) => {
    const [before, after, expected] = row.split('\t') as [string, string, string];
    return { before, after, expected };
  });
}

const skip = existsSync(CORPUS)
  ? false
  : `${CORPUS} is absent: the netpol-analyzer diff corpus is not checked`;

test('netpol-analyzer diff corpus: every case phiwall accepts agrees address for address', { skip }, () => {
  const cases = readCases();
  assert.ok(cases.length >= 40, `the corpus lists its cases (${cases.length})`);
  const differing: Record<string, string> = {};
  const rejected: string[] = [];
  let compared = 0;
  for (const { before, after, expected } of cases) {
    const name = `${before} -> ${after}`;
    let actual: string[];
    try {
      actual = canonical(phiwallFacts(before, after));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      rejected.push(name);
      continue;
    }
    compared++;
    const wanted = canonical(expectedFacts(readFileSync(join(CORPUS, 'expected', expected), 'utf8')));
    const missing = wanted.filter((f) => !actual.includes(f));
    const extra = actual.filter((f) => !wanted.includes(f));
    if (missing.length > 0 || extra.length > 0) {
      differing[name] = [
        ...missing.slice(0, 5).map((f) => `  only netpol-analyzer: ${f}`),
        ...extra.slice(0, 5).map((f) => `  only phiwall: ${f}`),
      ].join('\n');
    }
  }
  assert.ok(compared > 0, 'some cases were compared');
  const unexplained = Object.entries(differing).filter(([name]) => !(name in KNOWN_DIFFERENCES));
  assert.deepEqual(
    unexplained.map(([name, detail]) => `${name}\n${detail}`),
    [],
  );
  assert.deepEqual(rejected, Object.keys(REJECTED), 'the cases whose inputs phiwall refuses');
  const nowAgreeing = Object.keys(KNOWN_DIFFERENCES).filter((name) => !(name in differing));
  assert.deepEqual(nowAgreeing, [], 'known differences that no longer differ');
});
