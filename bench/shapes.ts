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
const SHAPE_VERSION = 2;

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
/** Namespaces of the ipBlock series, whatever its size: policies pile up on the same pods. */
const IP_BLOCK_NAMESPACES = 5;

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
 * `policies` NetworkPolicies spread over five namespaces, each selecting every pod of its namespace and
 * allowing ingress from and egress to `IP_BLOCKS_PER_RULE` ipBlocks of `EXCEPTS_PER_BLOCK` excepts
 * each: the shape of a firewall's partner list copied into one policy per partner, so the pods of a
 * namespace gather a fifth of all the policies. This made audit quadratic.
 */
export function ipBlockCluster(policies: number): string {
  return cached(`ipblocks-${policies}`, 'json', (file) => {
    const rng = new Random(policies);
    const items: unknown[] = [];
    for (let n = 0; n < IP_BLOCK_NAMESPACES; n++) {
      const namespace = `partners-${n}`;
      items.push(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
        deployment('gateway', namespace, { app: 'gateway' }, 8443),
      );
    }
    for (let i = 0; i < policies; i++) {
      const namespace = `partners-${i % IP_BLOCK_NAMESPACES}`;
      const blocks = () => Array.from({ length: IP_BLOCKS_PER_RULE }, () => ({ ipBlock: ipBlock(rng) }));
      items.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: `partner-${i}`, namespace },
        spec: {
          podSelector: {},
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
