import { parseAddress, parseCidr } from '../engine/addresses.ts';
import { dnsLabelProblem, dnsSubdomainProblem } from './names.ts';

export interface EndpointKinds {
  cidr?: boolean;
  /** `fqdn:<name>`: a destination known by name only (Cilium's toFQDNs). */
  fqdn?: boolean;
}

/**
 * Why `text` cannot name a flow's end: a workload (`ns/name`, `ns/name[Kind]`, `name` in the default
 * namespace), an IP address or, where `options` allow, a CIDR or `fqdn:<name>`. Undefined when it can.
 */
export function endpointProblem(text: string, options: EndpointKinds = {}): string | undefined {
  if (parseAddress(text) !== undefined || (options.cidr && parseCidr(text) !== undefined)) return undefined;
  if (text.startsWith('fqdn:'))
    return options.fqdn
      ? fqdnProblem(text.slice('fqdn:'.length))
      : "a toFQDNs name, whose addresses are known only at run time: only a connectivity test's `to` takes one";
  const what = `not a workload (ns/name or ns/name[Kind]) or an IP address${options.cidr ? ' or CIDR' : ''}${options.fqdn ? ' or fqdn:<name>' : ''}`;
  const match = /^(?:([^/[\]]+)\/)?([^/[\]]+)(?:\[([A-Za-z]+)\])?$/.exec(text);
  if (!match) return what;
  const [, namespace, name = ''] = match;
  const problem = (namespace !== undefined && dnsLabelProblem(namespace)) || dnsSubdomainProblem(name);
  return problem ? `${what}: ${problem}` : undefined;
}

/** A DNS name as toFQDNs' matchName takes it, or a matchPattern (`*` within labels, or `*` alone). */
function fqdnProblem(name: string): string | undefined {
  if (name === '*') return undefined;
  if (name.length > 254) return 'not a DNS name: longer than 253 characters';
  const labels = name.replace(/\.$/, '').split('.');
  if (labels.includes('')) return 'not a DNS name: it has an empty label';
  const bad = labels.find((label) => !/^[A-Za-z0-9_*]([-A-Za-z0-9_*]*[A-Za-z0-9_*])?$/.test(label));
  return bad === undefined ? undefined : `not a DNS name: label "${bad}"`;
}
