import { type PortSet, TRANSPORTS } from '../engine/ports.ts';

/** `{"TCP": [[80, 80]], "UDP": [[53, 53]], "ICMP": [[8, 8]]}`: only protocols with something allowed (ICMP: types). */
export function portsToJson(ports: PortSet): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const protocol of TRANSPORTS) {
    if (ports[protocol].length > 0) out[protocol] = ports[protocol].map(([lo, hi]) => [lo, hi]);
  }
  return out;
}
