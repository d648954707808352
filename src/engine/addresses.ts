import ipaddr from 'ipaddr.js';
import type { ClusterPeer, IpBlock, Node } from '../model/types.ts';
import { type IntervalSet, normalize, subtract } from './intervals.ts';
import { selectorMatches } from './selectors.ts';

/**
 * IPv4 and IPv6 addresses on one bigint axis, so an address set is a single interval set: IPv4 occupies
 * [0, 2^32) and IPv6 is shifted above it, so no range ever spans both families.
 */
export const V6_OFFSET = 1n << 32n;
const V4_SIZE = 1n << 32n;
const V6_SIZE = 1n << 128n;

export const ALL_ADDRESSES: IntervalSet<bigint> = [
  [0n, V4_SIZE - 1n],
  [V6_OFFSET, V6_OFFSET + V6_SIZE - 1n],
];

export interface Cidr {
  family: 4 | 6;
  prefix: number;
  lo: bigint;
  hi: bigint;
}

function bytesToBigInt(bytes: number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (text.includes(':') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return undefined;
}

/** Pod IPs are read by the hundred thousand, so plain IPv4 takes a path without ipaddr.js objects. */
function parseDottedQuad(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      // No leading zeros, as the API server's parser refuses them; at most 255.
      if (digits > 0 && octet === 0) return undefined;
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

/** An address on the unified axis, or undefined when `text` is not an IPv4 or IPv6 address. */
export function parseAddress(text: string): bigint | undefined {
  const v4 = parseDottedQuad(text);
  if (v4 !== undefined) return BigInt(v4);
  const ip = parseIp(text);
  if (!ip) return undefined;
  const value = bytesToBigInt(ip.toByteArray());
  return ip.kind() === 'ipv4' ? value : V6_OFFSET + value;
}

/** Parses `addr/prefix`; host bits may be set, as the API server's sloppy parser allows. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseAddress(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (address === undefined || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const family = address < V6_OFFSET ? 4 : 6;
  const bits = family === 4 ? 32 : 128;
  if (prefix > bits) return undefined;
  const size = 1n << BigInt(bits - prefix);
  const offset = family === 4 ? 0n : V6_OFFSET;
  const base = ((address - offset) / size) * size;
  return { family, prefix, lo: offset + base, hi: offset + base + size - 1n };
}

/** The addresses an ipBlock admits: its CIDR minus its except blocks. Assumes a validated block. */
export function ipBlockAddresses(block: IpBlock): IntervalSet<bigint> {
  const cidr = parseCidr(block.cidr);
  if (!cidr) return [];
  const excepts = block.except.flatMap((text) => {
    const except = parseCidr(text);
    return except ? [[except.lo, except.hi] as const] : [];
  });
  return subtract([[cidr.lo, cidr.hi]], normalize(excepts));
}

/** The addresses a cluster policy's `networks` or `nodes` peer matches (the IPs of the matching Nodes). */
export function clusterPeerAddresses(
  peer: Exclude<ClusterPeer, { kind: 'pods' }>,
  nodes: readonly Node[],
): IntervalSet<bigint> {
  if (peer.kind === 'networks') {
    return normalize(peer.cidrs.flatMap((cidr) => ipBlockAddresses({ cidr, except: [] })));
  }
  return normalize(
    nodes
      .filter((node) => selectorMatches(peer.nodeSelector, node.labels))
      .flatMap((node) => node.ips.map(parseAddress))
      .filter((address) => address !== undefined)
      .map((address) => [address, address] as const),
  );
}

export function formatAddress(value: bigint): string {
  if (value < V6_OFFSET) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
  const v6 = value - V6_OFFSET;
  const parts = Array.from({ length: 8 }, (_, i) => Number((v6 >> BigInt(112 - i * 16)) & 0xffffn));
  return new ipaddr.IPv6(parts).toString();
}

/** The fewest CIDR blocks that cover exactly `set`. */
export function toCidrs(set: IntervalSet<bigint>): string[] {
  const out: string[] = [];
  for (const [first, last] of set) {
    let lo = first;
    while (lo <= last) {
      const isV6 = lo >= V6_OFFSET;
      const base = isV6 ? V6_OFFSET : 0n;
      const bits = isV6 ? 128 : 32;
      const local = lo - base;
      let hostBits = 0;
      while (hostBits < bits) {
        const size = 1n << BigInt(hostBits + 1);
        if (local % size !== 0n || lo + size - 1n > last) break;
        hostBits++;
      }
      out.push(`${formatAddress(lo)}/${bits - hostBits}`);
      lo += 1n << BigInt(hostBits);
    }
  }
  return out;
}
