/**
 * What `--live` reads, and nothing more: the least a NetworkPolicy analysis needs. Secrets and
 * ConfigMaps are never asked for; deploy/rbac.yaml grants exactly these (a test keeps the two equal).
 */
export interface LiveResource {
  group: string;
  version: string;
  /** The plural resource name, as in URLs and RBAC rules. */
  resource: string;
  kind: string;
  namespaced: boolean;
  /** Served only when its CustomResourceDefinition is installed; absent is not an error. */
  optional?: true;
  /** Read in every namespace even when `--namespace` narrows the rest (CNI detection needs them). */
  clusterWide?: true;
  /** Left unread when this group serves the same resource: the same objects, in the view to prefer. */
  unlessServedBy?: { group: string; version: string };
}

/**
 * Calico's resources: through Calico's API server (projectcalico.org/v3) when it runs, else from the
 * CRDs they are stored in (crd.projectcalico.org/v1), never both, which would list each object twice.
 */
const CALICO_RESOURCES: readonly [resource: string, kind: string, namespaced: boolean][] = [
  ['networkpolicies', 'NetworkPolicy', true],
  ['globalnetworkpolicies', 'GlobalNetworkPolicy', false],
  ['networksets', 'NetworkSet', true],
  ['globalnetworksets', 'GlobalNetworkSet', false],
  ['tiers', 'Tier', false],
  ['profiles', 'Profile', false],
];
const CALICO_API = { group: 'projectcalico.org', version: 'v3' };

function calicoResources(): LiveResource[] {
  return CALICO_RESOURCES.flatMap(([resource, kind, namespaced]): LiveResource[] => [
    { ...CALICO_API, resource, kind, namespaced, optional: true },
    {
      group: 'crd.projectcalico.org',
      version: 'v1',
      resource,
      kind,
      namespaced,
      optional: true,
      unlessServedBy: CALICO_API,
    },
  ]);
}

/**
 * Cilium's policies and CIDR groups (cilium.io). CiliumCIDRGroup is served as v2 since Cilium 1.18 and
 * as v2alpha1 before: the older version is read only where v2 is not served.
 */
const CILIUM_RESOURCES: readonly LiveResource[] = [
  {
    group: 'cilium.io',
    version: 'v2',
    resource: 'ciliumnetworkpolicies',
    kind: 'CiliumNetworkPolicy',
    namespaced: true,
    optional: true,
  },
  {
    group: 'cilium.io',
    version: 'v2',
    resource: 'ciliumclusterwidenetworkpolicies',
    kind: 'CiliumClusterwideNetworkPolicy',
    namespaced: false,
    optional: true,
  },
  {
    group: 'cilium.io',
    version: 'v2',
    resource: 'ciliumcidrgroups',
    kind: 'CiliumCIDRGroup',
    namespaced: false,
    optional: true,
  },
  {
    group: 'cilium.io',
    version: 'v2alpha1',
    resource: 'ciliumcidrgroups',
    kind: 'CiliumCIDRGroup',
    namespaced: false,
    optional: true,
    unlessServedBy: { group: 'cilium.io', version: 'v2' },
  },
];

export const LIVE_RESOURCES: readonly LiveResource[] = [
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true },
  {
    group: '',
    version: 'v1',
    resource: 'replicationcontrollers',
    kind: 'ReplicationController',
    namespaced: true,
  },
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  {
    group: 'apps',
    version: 'v1',
    resource: 'daemonsets',
    kind: 'DaemonSet',
    namespaced: true,
    clusterWide: true,
  },
  { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job', namespaced: true },
  { group: 'batch', version: 'v1', resource: 'cronjobs', kind: 'CronJob', namespaced: true },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    resource: 'networkpolicies',
    kind: 'NetworkPolicy',
    namespaced: true,
  },
  { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', kind: 'Ingress', namespaced: true },
  {
    group: 'policy.networking.k8s.io',
    version: 'v1alpha1',
    resource: 'adminnetworkpolicies',
    kind: 'AdminNetworkPolicy',
    namespaced: false,
    optional: true,
  },
  {
    group: 'policy.networking.k8s.io',
    version: 'v1alpha1',
    resource: 'baselineadminnetworkpolicies',
    kind: 'BaselineAdminNetworkPolicy',
    namespaced: false,
    optional: true,
  },
  {
    group: 'policy.networking.k8s.io',
    version: 'v1alpha2',
    resource: 'clusternetworkpolicies',
    kind: 'ClusterNetworkPolicy',
    namespaced: false,
    optional: true,
  },
  ...calicoResources(),
  ...CILIUM_RESOURCES,
];

export function apiVersionOf(resource: LiveResource): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

/** `/api/v1/pods`, `/apis/apps/v1/namespaces/shop/deployments`. */
export function listPath(resource: LiveResource, namespace?: string): string {
  const base = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  return namespace && resource.namespaced
    ? `${base}/namespaces/${encodeURIComponent(namespace)}/${resource.resource}`
    : `${base}/${resource.resource}`;
}
