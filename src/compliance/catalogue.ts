import type { CheckDefinition, Severity } from './types.ts';

/** The check catalogue (docs/hipaa-checks.md): ids, titles, severities and HIPAA sections. */
const rows: [string, string, Severity, string][] = [
  ['001', 'PHI workloads are identified', 'high', '308(a)(1)(ii)(A)'],
  ['002', 'A NetworkPolicy-enforcing CNI is present', 'critical', '312(a)(1); 308(a)(8)'],
  ['003', 'Every policy kind present is modelled', 'medium', '308(a)(8)'],
  ['004', 'Namespaces do not mix PHI and non-PHI workloads', 'medium', '308(a)(4); 312(a)(1)'],
  ['005', 'PHI workloads are ingress-isolated', 'critical', '312(a)(1)'],
  ['006', 'PHI workloads are egress-isolated', 'high', '312(e)(1); 312(c)(1)'],
  ['007', 'PHI namespaces have a default-deny policy', 'high', '312(a)(1); 308(a)(1)(ii)(B)'],
  ['008', 'Every namespace has a NetworkPolicy', 'medium', '308(a)(1)(ii)(B)'],
  [
    '009',
    'PHI workloads do not accept ingress from every address',
    'critical',
    '312(a)(1); 308(a)(4)(ii)(B)',
  ],
  ['010', 'PHI workloads do not accept ingress from every namespace', 'high', '312(a)(1); 308(a)(4)'],
  ['011', 'Only allowed namespaces reach PHI', 'high', '308(a)(4)(ii)(B),(C)'],
  ['012', 'Every flow into PHI is approved', 'high', '312(a)(1); 308(a)(4)'],
  ['013', 'Namespace peers into PHI use kubernetes.io/metadata.name', 'medium', '312(a)(1); 312(c)(1)'],
  ['014', 'PHI ingress is limited to specific ports', 'high', '312(a)(1)'],
  ['015', 'ipBlocks admitting ingress to PHI are narrow', 'medium', '312(a)(1); 312(e)(1)'],
  ['016', 'PHI workloads reach only allowed internet addresses', 'high', '312(e)(1); 312(c)(1)'],
  ['017', 'PHI DNS egress is limited to cluster DNS', 'medium', '312(e)(1)'],
  ['018', 'PHI workloads cannot reach cloud metadata addresses', 'high', '312(a)(1); 312(e)(1)'],
  ['019', 'PHI egress to other namespaces is allowed', 'medium', '312(e)(1); 308(a)(4)'],
  ['020', 'PHI ingress uses TLS ports', 'medium', '312(e)(1); 312(e)(2)(ii)'],
  ['021', 'Ingress routes to PHI use TLS', 'high', '312(e)(1); 312(e)(2)(ii)'],
  [
    '022',
    'No NodePort, LoadBalancer or externalIPs Service selects PHI pods',
    'high',
    '312(a)(1); 312(e)(1)',
  ],
  ['023', 'PHI pods do not use hostNetwork', 'critical', '312(a)(1)'],
  ['024', 'PHI containers declare no hostPort', 'medium', '312(a)(1)'],
  ['025', 'Every policy selects a workload', 'low', '308(a)(8)'],
  ['026', 'Every rule peer selects something', 'low', '308(a)(8)'],
  ['027', 'No rule is redundant', 'info', '308(a)(8)'],
  ['028', 'No broad allow in PHI namespaces', 'medium', '312(a)(1); 308(a)(4)'],
  ['029', 'Flow logging covers PHI namespaces', 'medium', '312(b); 308(a)(1)(ii)(D)'],
  ['030', 'No new reachability into or out of PHI since the baseline', 'high', '308(a)(8); 316(b)'],
  ['031', 'No transitive path from outside the cluster to PHI', 'high', '312(a)(1); 308(a)(1)(ii)(A)'],
  ['032', 'ePHI flow map', 'info', '308(a)(1)(ii)(A); 312(e)(1)'],
  ['033', 'PHI namespaces protected by an Admin-tier guardrail', 'info', '312(a)(1); 308(a)(4)'],
];

/** What a failing finding of each check says is wrong, in a few words: root-cause titles are built from them. */
const problems: Record<string, string> = {
  '001': 'no PHI workload is identified',
  '002': 'NetworkPolicy enforcement is not confirmed',
  '003': 'policy kinds phiwall does not model are present',
  '004': 'mixes PHI and non-PHI workloads',
  '005': 'not ingress-isolated',
  '006': 'not egress-isolated',
  '007': 'no default-deny',
  '008': 'no NetworkPolicy',
  '009': 'accepts ingress from every address',
  '010': 'accepts ingress from every namespace',
  '011': 'reaches PHI from outside allowedIngressNamespaces',
  '012': 'admits flows not in approvedFlows',
  '013': 'selects namespaces by a mutable label',
  '014': 'open on every port or a wide range',
  '015': 'admits an ipBlock broader than /16 or /48',
  '016': 'reaches internet addresses outside allowedEgress',
  '017': 'allows DNS to any host',
  '018': 'reaches cloud metadata addresses',
  '019': 'reaches namespaces outside allowedEgress',
  '020': 'open on ports outside tlsPorts',
  '021': 'routes to PHI without TLS',
  '022': 'exposes PHI on nodes or external IPs',
  '023': 'uses hostNetwork',
  '024': 'declares a hostPort',
  '025': 'selects no workload',
  '026': 'has a peer that selects nothing',
  '027': 'has a redundant rule',
  '028': 'allows traffic to every pod of a PHI namespace',
  '029': 'no flow logging found',
  '030': 'new reachability since the baseline',
  '031': 'reachable from outside the cluster through other workloads',
  '032': 'ePHI flow map',
  '033': 'no Admin-tier guardrail',
};

export const CATALOGUE: readonly CheckDefinition[] = rows.map(([n, title, severity, refs]) => ({
  id: `HIPAA-NP-${n}`,
  title,
  problem: problems[n] ?? title,
  severity,
  hipaa: refs.split('; ').map((ref) => `164.${ref}`),
}));

export function definitionOf(id: string): CheckDefinition {
  const definition = CATALOGUE.find((d) => d.id === id);
  if (!definition) throw new Error(`unknown check ${id}`);
  return definition;
}
