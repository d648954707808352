import type { PortSet } from '../engine/ports.ts';
import { PROTOCOLS } from '../model/types.ts';

/** `{"TCP": [[80, 80]], "UDP": [[53, 53]]}`: only protocols with something allowed. */
export function portsToJson(ports: PortSet): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const protocol of PROTOCOLS) {
    if (ports[protocol].length > 0) out[protocol] = ports[protocol].map(([lo, hi]) => [lo, hi]);
  }
  return out;
}
