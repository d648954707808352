import { parseAddress, parseCidr } from '../engine/addresses.ts';
import { dnsLabelProblem, dnsSubdomainProblem } from './names.ts';

/**
 * Why `text` cannot name a flow's end: a workload (`ns/name`, `ns/name[Kind]`, `name` in the default
 * namespace), an IP address or, where `cidr` allows, a CIDR. Undefined when it can.
 */
export function endpointProblem(text: string, options: { cidr?: boolean } = {}): string | undefined {
  if (parseAddress(text) !== undefined || (options.cidr && parseCidr(text) !== undefined)) return undefined;
  const what = `not a workload (ns/name or ns/name[Kind]) or an IP address${options.cidr ? ' or CIDR' : ''}`;
  const match = /^(?:([^/[\]]+)\/)?([^/[\]]+)(?:\[([A-Za-z]+)\])?$/.exec(text);
  if (!match) return what;
  const [, namespace, name = ''] = match;
  const problem = (namespace !== undefined && dnsLabelProblem(namespace)) || dnsSubdomainProblem(name);
  return problem ? `${what}: ${problem}` : undefined;
}
