/**
 * The input shapes of the growth series: each a family of files that differ only in how many times one
 * unit repeats, so time and memory can be read as a function of that count. Files are written once into
 * bench/.data and reused while the generator is unchanged (the name carries the count and a shape version).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA } from './child.ts';
import { Random } from './random.ts';

/** Bumped when a shape changes, so files from an older shape are not reused. */
const SHAPE_VERSION = 1;

function cached(name: string, extension: string, write: (file: string) => void): string {
  const file = join(DATA, `${name}-v${SHAPE_VERSION}.${extension}`);
  if (!existsSync(file)) write(file);
  return file;
}

function deployment(name: string, namespace: string, labels: Record<string, string>, port: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name, image: name, ports: [{ name: 'http', containerPort: port }] }] },
      },
    },
  };
}

/**
 * `namespaces` namespaces, each with one Deployment and a policy admitting every namespace (one
 * namespace per tenant: the shape that made lint and `--group-by class` quadratic).
 */
export function namespaceScaleCluster(namespaces: number): string {
  return cached(`namespaces-${namespaces}`, 'json', (file) => {
    const items: unknown[] = [];
    for (let i = 0; i < namespaces; i++) {
      const namespace = `team-${i}`;
      items.push(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { team: namespace } } },
        deployment('svc', namespace, { app: 'svc', team: namespace }, 8080),
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'from-cluster', namespace },
          spec: {
            podSelector: {},
            policyTypes: ['Ingress', 'Egress'],
            ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 8080 }] }],
            egress: [
              { to: [{ namespaceSelector: {} }], ports: [{ port: 8080 }] },
              { ports: [{ port: 53, protocol: 'UDP' }] },
            ],
          },
        },
      );
    }
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  });
}

export const IP_BLOCKS_PER_RULE = 40;
export const EXCEPTS_PER_BLOCK = 10;
/** Policies per namespace in the ipBlock series. */
const POLICIES_PER_NAMESPACE = 5;

/** One ipBlock: a random /16 (public or private) with `EXCEPTS_PER_BLOCK` random /24s cut out of it. */
function ipBlock(rng: Random): { cidr: string; except: string[] } {
  const a = rng.pick([10, 172, 192, rng.int(11, 99), rng.int(100, 223)]);
  const b = rng.int(0, 255);
  const thirds = rng.sample(
    Array.from({ length: 256 }, (_, i) => i),
    EXCEPTS_PER_BLOCK,
  );
  return { cidr: `${a}.${b}.0.0/16`, except: thirds.map((c) => `${a}.${b}.${c}.0/24`) };
}

/**
 * `policies` NetworkPolicies, each selecting its own Deployment and allowing ingress from and egress to
 * `IP_BLOCKS_PER_RULE` ipBlocks of `EXCEPTS_PER_BLOCK` excepts each, five policies to a namespace: the
 * shape of firewall rules copied into NetworkPolicy, which made audit quadratic.
 */
export function ipBlockCluster(policies: number): string {
  return cached(`ipblocks-${policies}`, 'json', (file) => {
    const rng = new Random(policies);
    const items: unknown[] = [];
    for (let i = 0; i < policies; i++) {
      const namespace = `partner-${Math.floor(i / POLICIES_PER_NAMESPACE)}`;
      if (i % POLICIES_PER_NAMESPACE === 0)
        items.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      const app = `gateway-${i}`;
      const blocks = () => Array.from({ length: IP_BLOCKS_PER_RULE }, () => ({ ipBlock: ipBlock(rng) }));
      items.push(deployment(app, namespace, { app }, 8443), {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: `${app}-partners`, namespace },
        spec: {
          podSelector: { matchLabels: { app } },
          policyTypes: ['Ingress', 'Egress'],
          ingress: [{ from: blocks(), ports: [{ port: 8443 }] }],
          egress: [{ to: blocks(), ports: [{ port: 443 }, { port: 5432 }] }],
        },
      });
    }
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  });
}

/**
 * `pods` bare Pods as multi-document YAML, the shape of `kubectl get pods -o yaml` split per pod, ending
 * in a syntax error when `broken`: nothing may be analysed, and the error should come as soon as the
 * file is parsed.
 */
export function podManifest(pods: number, broken: boolean): string {
  return cached(`pods-${pods}${broken ? '-broken' : ''}`, 'yaml', (file) => {
    const namespaces = Math.max(1, Math.round(pods / 500));
    const parts: string[] = [];
    for (let n = 0; n < namespaces; n++)
      parts.push(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-${n}\n`);
    for (let i = 0; i < pods; i++) {
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      parts.push(
        `apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-${i}\n  namespace: ns-${i % namespaces}\n  labels:\n    app: app-${i % 50}\nspec:\n  nodeName: node-${i % 20}\n  containers: [{ name: main, image: example }]\nstatus:\n  podIP: ${ip}\n  podIPs: [{ ip: ${ip} }]\n`,
      );
    }
    // An unclosed flow sequence: YAML the parser cannot read, in the last document only.
    if (broken) parts.push('apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n');
    writeFileSync(file, parts.join('---\n'));
  });
}
