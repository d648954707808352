import type { ContainerFacts, Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, Check, Evidence, FindingDraft } from '../types.ts';
import { locationOf } from './support.ts';

// HIPAA-NP-002: which network plugin the DaemonSets run, and whether it enforces NetworkPolicy. Also the
// container facts HIPAA-NP-029 (flow logging) reads from the same DaemonSets.

export function containersOf(workload: Workload): ContainerFacts[] {
  // Pods of one DaemonSet share its template; the first stands for all.
  return [...(workload.pods[0]?.containers ?? [])];
}

export function daemonSets(context: AuditContext): Workload[] {
  return context.snapshot.workloads.filter((w) => w.kind === 'DaemonSet');
}

/** Go's flag package reads booleans this way, which every CNI agent here is written with. */
export function goBool(text: string): boolean | undefined {
  if (/^(1|t|true)$/i.test(text)) return true;
  if (/^(0|f|false)$/i.test(text)) return false;
  return undefined;
}

/** A boolean flag as Go's flag packages read it: a bare `--name` is true. */
export function flagValue(containers: readonly ContainerFacts[], name: string): boolean | undefined {
  const value = flagSetting(containers, name, 'boolean')?.value;
  return value === undefined ? undefined : goBool(value);
}

export function envValue(containers: readonly ContainerFacts[], name: string): string | undefined {
  for (const entry of containers.flatMap((c) => c.env)) {
    const eq = entry.indexOf('=');
    if (entry.slice(0, eq) === name) return entry.slice(eq + 1);
  }
  return undefined;
}

export const image = (containers: readonly ContainerFacts[], pattern: RegExp) =>
  containers.find((c) => pattern.test(c.image));

export const CILIUM_IMAGE = /(^|\/)cilium\/cilium(-dev)?([:@]|$)/;

export const KUBE_SYSTEM_HINT = 'add kube-system DaemonSets: kubectl get ds -n kube-system -o yaml';

// ---------------------------------------------------------------------------------------------------
// Settings that decide enforcement, as the DaemonSet writes them

/** One setting as the DaemonSet gives it to the agent. */
interface Setting {
  /** As written: `--enable-policy=never`, `env CILIUM_ENABLE_POLICY=never`. */
  text: string;
  container: string;
  /** After Kubernetes' `$(VAR)` expansion; undefined when it names a variable the DaemonSet does not set literally. */
  value: string | undefined;
  /** That variable: its value comes from a ConfigMap, Secret or field reference, which phiwall does not read. */
  unresolved?: string;
}

/** Kubernetes expands `$(VAR)` in command, args and env from the container's environment; `$$` escapes. */
function expand(text: string, container: ContainerFacts): Pick<Setting, 'value' | 'unresolved'> {
  let unresolved: string | undefined;
  const value = text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, variable?: string) => {
    if (variable === undefined) return '$';
    const literal = envValue([container], variable);
    if (literal === undefined) unresolved ??= variable;
    return literal ?? whole;
  });
  return unresolved === undefined ? { value } : { value: undefined, unresolved };
}

/**
 * The last occurrence of a command-line flag (`--name=value`, `-name=value`, and for a string flag
 * `--name value`), also inside a shell line (`sh -c "agent --x=y"`). A bare boolean flag is `true`.
 */
function flagSetting(
  containers: readonly ContainerFacts[],
  name: string,
  kind: 'boolean' | 'string',
): Setting | undefined {
  const pattern = new RegExp(`^--?${name}(?:=(.*))?$`);
  let found: Setting | undefined;
  for (const container of containers) {
    const words = container.args.flatMap((arg) => arg.split(/\s+/));
    words.forEach((word, i) => {
      const match = pattern.exec(word);
      if (!match) return;
      const next = words[i + 1];
      let raw = match[1];
      let text = word;
      if (raw === undefined && kind === 'string' && next !== undefined && !next.startsWith('-')) {
        raw = next;
        text = `${word} ${next}`;
      }
      found = {
        text,
        container: container.name,
        ...expand(raw ?? (kind === 'boolean' ? 'true' : ''), container),
      };
    });
  }
  return found;
}

/** A literal environment variable (phiwall sees no `valueFrom`), with `$(VAR)` expanded. */
function envSetting(containers: readonly ContainerFacts[], name: string): Setting | undefined {
  for (const container of containers) {
    const value = envValue([container], name);
    if (value !== undefined)
      return { text: `env ${name}=${value}`, container: container.name, ...expand(value, container) };
  }
  return undefined;
}

const written = (s: Setting) => `${s.text} (container ${s.container})`;

const unresolvedReason = (s: Setting) =>
  `${written(s)} takes its value from variable ${s.unresolved}, which the container does not set literally: it comes from a ConfigMap, Secret or field reference, and phiwall reads none of them`;

/** How to read a variable phiwall could not: its valueFrom in the DaemonSet names the source. */
const unresolvedCheck = (workload: Workload, s: Setting) =>
  `kubectl -n ${workload.namespace} get ds ${workload.name} -o jsonpath='{.spec.template.spec.containers[?(@.name=="${s.container}")].env[?(@.name=="${s.unresolved}")]}' names where ${s.unresolved} comes from; read that value`;

// ---------------------------------------------------------------------------------------------------
// Detection

export type Verdict = 'enforcing' | 'not enforcing' | 'unknown';

export interface CniMatch {
  workload: Workload;
  cni: string;
  verdict: Verdict;
  /** What identified it: `container calico-node (image quay.io/calico/node:v3.28.1)`, or the DaemonSet's name. */
  matched: string;
  /** What the verdict rests on, assumptions included. */
  reason: string;
  /** How to confirm what phiwall could not read (a ConfigMap, a variable's source). */
  confirm?: string;
}

const CALICO_IMAGE =
  /(^|\/)(calico\/node(-windows)?|tigera\/cnx-node|hardened-calico|mirrored-calico-node)([:@]|$)/;
const FLANNEL_IMAGE = /(^|\/)[^/]*flannel[^/]*([:@]|$)/;
const ANTREA_IMAGE = /(^|\/)antrea\/antrea-(agent-)?(ubuntu|windows)([:@-]|$)/;
const OVN_IMAGE = /ovn-kubernetes|ovn-daemonset/;

const described = (c: ContainerFacts) => `container ${c.name} (image ${c.image})`;

function cniMatch(
  workload: Workload,
  cni: string,
  matched: string,
  verdict: Verdict,
  reason: string,
  confirm?: string,
): CniMatch {
  return { workload, cni, verdict, matched, reason, ...(confirm ? { confirm } : {}) };
}

export function detectCni(workload: Workload): CniMatch | undefined {
  const containers = containersOf(workload);
  const name = workload.name;
  const byImage = (pattern: RegExp) => {
    const found = image(containers, pattern);
    return found ? described(found) : undefined;
  };
  const byContainer = (names: readonly string[]) => {
    const found = containers.find((c) => names.includes(c.name));
    return found ? described(found) : undefined;
  };
  const byName = (names: readonly string[]) => (names.includes(name) ? `DaemonSet name ${name}` : undefined);
  const match = (cni: string, matched: string, verdict: Verdict, reason: string) =>
    cniMatch(workload, cni, matched, verdict, reason);

  const calico = byImage(CALICO_IMAGE);
  const flannel = byImage(FLANNEL_IMAGE);
  if (name === 'canal' || (calico && flannel))
    return match(
      'Canal (Calico policy with Flannel networking)',
      calico ?? `DaemonSet name ${name}`,
      'enforcing',
      'calico-node runs Felix, which enforces NetworkPolicy; Flannel beside it only routes',
    );
  const calicoFound = calico ?? byName(['calico-node']);
  if (calicoFound)
    return match('Calico', calicoFound, 'enforcing', 'calico-node runs Felix, which enforces NetworkPolicy');

  const cilium = byImage(CILIUM_IMAGE) ?? byName(['cilium', 'anetd']);
  if (cilium) return ciliumMatch(workload, containers, cilium);

  const antrea = byImage(ANTREA_IMAGE) ?? byName(['antrea-agent']);
  if (antrea)
    return match(
      'Antrea',
      antrea,
      'enforcing',
      'antrea-agent enforces the NetworkPolicies antrea-controller computes',
    );

  const npc = image(containers, /(^|\/)weave-npc([:@]|$)/);
  const weave = npc ? described(npc) : (byImage(/(^|\/)weave-kube([:@]|$)/) ?? byName(['weave-net']));
  if (weave) {
    return npc
      ? match('Weave Net', weave, 'enforcing', 'weave-npc is the network policy controller of Weave Net')
      : match(
          'Weave Net',
          weave,
          'not enforcing',
          'no weave-npc container: Weave Net enforces policy only through it',
        );
  }

  const kubeRouter = byImage(/(^|\/)kube-router([:@]|$)/) ?? byName(['kube-router']);
  if (kubeRouter) {
    // kube-router's network policy controller runs unless --run-firewall=false (its default is true).
    const firewall = flagSetting(containers, 'run-firewall', 'boolean');
    if (!firewall)
      return match('kube-router', kubeRouter, 'enforcing', '--run-firewall is not set: it defaults to true');
    if (firewall.value === undefined)
      return cniMatch(
        workload,
        'kube-router',
        kubeRouter,
        'unknown',
        unresolvedReason(firewall),
        unresolvedCheck(workload, firewall),
      );
    return goBool(firewall.value) === false
      ? match(
          'kube-router',
          kubeRouter,
          'not enforcing',
          `${written(firewall)} turns its network policy controller off`,
        )
      : match(
          'kube-router',
          kubeRouter,
          'enforcing',
          `${written(firewall)} runs its network policy controller`,
        );
  }

  const ovn =
    byContainer(['ovnkube-controller', 'ovnkube-node']) ?? byImage(OVN_IMAGE) ?? byName(['ovnkube-node']);
  if (ovn)
    return match(
      'OVN-Kubernetes',
      ovn,
      'enforcing',
      'OVN-Kubernetes writes NetworkPolicies as OVN ACLs, which ovn-controller enforces on the node',
    );

  const npm = byImage(/(^|\/)azure-npm([:@]|$)/) ?? byName(['azure-npm', 'azure-npm-win']);
  if (npm)
    return match(
      'Azure Network Policy Manager',
      npm,
      'enforcing',
      'azure-npm enforces NetworkPolicy on the node',
    );

  const aws = byImage(/(^|\/)amazon-k8s-cni([:@]|$)/) ?? byName(['aws-node']);
  if (aws) return awsMatch(workload, containers, aws);

  const flannelOnly = flannel ?? (/flannel/.test(name) ? `DaemonSet name ${name}` : undefined);
  if (flannelOnly)
    return match(
      'Flannel',
      flannelOnly,
      'not enforcing',
      'Flannel routes pod traffic but enforces no policy',
    );
  return undefined;
}

function ciliumMatch(workload: Workload, containers: readonly ContainerFacts[], matched: string): CniMatch {
  const gke = workload.name === 'anetd';
  const match = (verdict: Verdict, reason: string, confirm?: string) =>
    cniMatch(workload, gke ? 'GKE Dataplane V2 (Cilium)' : 'Cilium', matched, verdict, reason, confirm);
  const policy =
    flagSetting(containers, 'enable-policy', 'string') ?? envSetting(containers, 'CILIUM_ENABLE_POLICY');
  const k8s =
    flagSetting(containers, 'enable-k8s-networkpolicy', 'boolean') ??
    envSetting(containers, 'CILIUM_ENABLE_K8S_NETWORKPOLICY');
  if (policy?.value === 'never')
    return match('not enforcing', `${written(policy)} switches policy enforcement off`);
  if (k8s?.value !== undefined && goBool(k8s.value) === false)
    return match('not enforcing', `${written(k8s)} switches Kubernetes NetworkPolicy enforcement off`);
  const unresolved = [policy, k8s].find((s) => s !== undefined && s.value === undefined);
  if (unresolved)
    return match(
      'unknown',
      `${unresolvedReason(unresolved)}; Cilium's own default would enforce, but the DaemonSet overrides it with a value phiwall cannot see`,
      unresolvedCheck(workload, unresolved),
    );
  if (policy) return match('enforcing', `${written(policy)} enforces policy`);
  if (gke) return match('enforcing', "GKE manages anetd's settings, and Dataplane V2 enforces NetworkPolicy");
  const configDir = flagSetting(containers, 'config-dir', 'string');
  const source = configDir
    ? `the agent reads its settings from ${written(configDir)}, which the Cilium chart fills from ConfigMap cilium-config`
    : 'any value for them would come from an environment variable taken from a ConfigMap or Secret';
  return match(
    'enforcing',
    `enable-policy and enable-k8s-networkpolicy are not in the DaemonSet's arguments or literal environment: ${source}, and phiwall reads no ConfigMaps, so it assumes Cilium's defaults (enable-policy=default, enable-k8s-networkpolicy=true), which enforce NetworkPolicy`,
    `kubectl -n ${workload.namespace} get configmap cilium-config -o jsonpath='{.data.enable-policy} {.data.enable-k8s-networkpolicy}' must not print never or false`,
  );
}

function awsMatch(workload: Workload, containers: readonly ContainerFacts[], matched: string): CniMatch {
  const match = (cni: string, verdict: Verdict, reason: string, confirm?: string) =>
    cniMatch(workload, cni, matched, verdict, reason, confirm);
  const agent = containers.find(
    (c) => /aws-network-policy-agent/.test(c.image) || c.name === 'aws-eks-nodeagent',
  );
  // The agent ships inside aws-node disabled: --enable-network-policy defaults to false. The flag decides;
  // ENABLE_NETWORK_POLICY counts only where no agent flag is written.
  const setting =
    flagSetting(agent ? [agent] : containers, 'enable-network-policy', 'boolean') ??
    envSetting(containers, 'ENABLE_NETWORK_POLICY');
  if (setting && setting.value === undefined)
    return match('AWS VPC CNI', 'unknown', unresolvedReason(setting), unresolvedCheck(workload, setting));
  if (setting?.value !== undefined && goBool(setting.value) === true)
    return match(
      'AWS VPC CNI with its network policy agent',
      'enforcing',
      `${written(setting)} enables the network policy agent; phiwall assumes the network policy controller is on too (the EKS add-on's enableNetworkPolicy turns on both; a self-managed install sets enable-network-policy-controller in ConfigMap amazon-vpc-cni, which phiwall does not read)`,
      `aws eks describe-addon --cluster-name CLUSTER --addon-name vpc-cni --query addon.configurationValues shows "enableNetworkPolicy": "true" (self-managed: kubectl -n ${workload.namespace} get configmap amazon-vpc-cni -o jsonpath='{.data.enable-network-policy-controller}' prints true)`,
    );
  const agentText = agent ? `the network policy agent (${agent.image})` : undefined;
  return match(
    'AWS VPC CNI',
    'not enforcing',
    setting
      ? `${written(setting)}: ${agentText ?? 'the network policy agent'} is ${agent ? 'present but ' : ''}not enabled`
      : agentText
        ? `${agentText} is present but not enabled: --enable-network-policy defaults to false`
        : 'no network policy agent is enabled (no --enable-network-policy=true, no ENABLE_NETWORK_POLICY=true)',
  );
}

// ---------------------------------------------------------------------------------------------------
// The check

const PHRASE: Record<Verdict, string> = {
  enforcing: 'enforces NetworkPolicy',
  'not enforcing': 'does not enforce NetworkPolicy',
  unknown: 'enforcement unknown',
};

function cniLine(m: CniMatch): string {
  return `${m.workload.id} at ${where(m.workload.provenance)}: ${m.matched} → ${m.cni}, ${PHRASE[m.verdict]} (${m.reason})`;
}

function verdictLine(verdict: Verdict, matches: readonly CniMatch[]): string {
  return `verdict: ${verdict} (${[...new Set(matches.map((m) => m.cni))].join(', ')})`;
}

export function cniEvidence(matches: readonly CniMatch[]): Evidence['rules'] {
  return matches.map((m) => ({ rule: `${m.workload.id} (${m.cni})`, at: where(m.workload.provenance) }));
}

const NOT_ENFORCING_FIX =
  'Run a CNI that enforces NetworkPolicy (Calico, Cilium, Antrea …); with Flannel, add Calico in policy-only mode (Canal). Without one, every NetworkPolicy is ignored.';
const AWS_FIX =
  'Enable the VPC CNI network policy agent (EKS add-on configuration `{"enableNetworkPolicy": "true"}`, which sets --enable-network-policy=true), or install a policy engine such as Calico or Cilium. Without one, every NetworkPolicy is ignored.';

/**
 * HIPAA-NP-002. Verdict: enforcing (pass) when any DaemonSet runs a plugin that enforces NetworkPolicy;
 * else unknown (needs-review) when a plugin's enforcing switch takes a value phiwall cannot read; else not
 * enforcing (fail) when the only plugins found enforce nothing; else unknown: needs-review when there are
 * kube-system DaemonSets but no plugin phiwall knows, not-assessable when there are none.
 */
export const cniPresent: Check = {
  id: 'HIPAA-NP-002',
  run(context) {
    const all = daemonSets(context);
    const matches = all.flatMap((w) => detectCni(w) ?? []);
    const kubeSystem = all.filter((w) => w.namespace === 'kube-system');
    const of = (verdict: Verdict) => matches.filter((m) => m.verdict === verdict);
    const enforcing = of('enforcing');
    const unknown = of('unknown');
    const notEnforcing = of('not enforcing');
    const ordered = [...enforcing, ...unknown, ...notEnforcing];
    const finding = (
      status: FindingDraft['status'],
      verdict: string,
      subjects: readonly Workload[],
      extra: string[] = [],
      remediation?: string,
    ): FindingDraft[] => [
      {
        status,
        objects: subjects.map((w) => w.id),
        evidence: {
          notes: [
            verdict,
            ...ordered.map(cniLine),
            ...ordered.flatMap((m) => (m.confirm ? [`to confirm for ${m.workload.id}: ${m.confirm}`] : [])),
            ...extra,
          ],
          rules: cniEvidence(ordered),
        },
        ...(subjects[0] ? { location: locationOf(subjects[0].provenance) } : {}),
        ...(remediation ? { remediation: { text: remediation } } : {}),
      },
    ];

    // Flows that policy denies yet were forwarded prove enforcement is not what the manifests say,
    // whatever plugin the DaemonSets name.
    const gaps = context.observed?.comparison.edges.filter((e) => e.group === 'gap') ?? [];
    if (gaps.length > 0) {
      const ends = gaps.flatMap((e) => [e.src, e.dst]).flatMap((p) => ('workload' in p ? [p.workload] : []));
      return [
        {
          status: 'fail',
          objects: [...new Set(ends)],
          evidence: {
            notes: [
              `verdict: not enforcing as written (observed): ${gaps.length} edge(s) that policy denies were forwarded in ${context.observed?.files.join(', ')}`,
              ...ordered.map(cniLine),
              'either enforcement is off or partial, or the cluster runs other policies than the manifests audited: compare with phiwall audit --live',
            ],
            edges: gaps.map(
              (e) =>
                `${'workload' in e.src ? e.src.workload : e.src.ip} -> ${'workload' in e.dst ? e.dst.workload : e.dst.ip} ${e.protocol} ${e.port} forwarded ${e.count}×, first at ${e.at.file}:${e.at.line}`,
            ),
            rules: cniEvidence(ordered),
          },
          remediation: {
            text: 'Find out why the network forwarded what policy denies: a CNI without policy enforcement (or with it switched off), policies in the cluster that differ from these manifests, or traffic that bypasses the pod network (hostNetwork, NodePort source NAT). Until then, NetworkPolicies are not a control an auditor can rely on.',
          },
        },
      ];
    }
    if (enforcing.length > 0)
      return finding(
        'pass',
        verdictLine('enforcing', enforcing),
        enforcing.map((m) => m.workload),
      );
    if (unknown.length > 0)
      return finding(
        'needs-review',
        verdictLine('unknown', unknown),
        unknown.map((m) => m.workload),
        [],
        'Read the setting phiwall could not (the "to confirm" note says how). If it enforces, record that with an `accept` entry for this finding; better, write it literally in the DaemonSet so the audit can read it. If it does not, switch enforcement on: without it, every NetworkPolicy is ignored.',
      );
    if (notEnforcing.length > 0)
      return finding(
        'fail',
        verdictLine('not enforcing', notEnforcing),
        notEnforcing.map((m) => m.workload),
        [],
        notEnforcing.some((m) => m.cni.startsWith('AWS')) ? AWS_FIX : NOT_ENFORCING_FIX,
      );
    if (kubeSystem.length === 0)
      return [
        {
          status: 'not-assessable',
          objects: [],
          evidence: {
            notes: [
              'verdict: unknown (no kube-system DaemonSets in the input)',
              `no kube-system DaemonSets in input: ${KUBE_SYSTEM_HINT}`,
            ],
          },
        },
      ];
    return finding(
      'needs-review',
      'verdict: unknown (no known network plugin among the DaemonSets)',
      kubeSystem,
      [
        `no known CNI among the DaemonSets ${all.map((w) => w.id).join(', ')}`,
        'a CNI installed in its own namespace (calico-system, kube-flannel …) needs its DaemonSets in the input too; one built into the node (k3s) or unknown to phiwall shows none',
      ],
      "Identify the cluster's network plugin. If its DaemonSets live outside kube-system, add them (kubectl get ds -A -o yaml). If phiwall does not know it, confirm it enforces NetworkPolicy (a deny-all policy that blocks a test connection) and record that with an `accept` entry for this finding.",
    );
  },
};
