import type { EngineOptions } from '../engine/endpoint.ts';
import type { Snapshot } from '../model/types.ts';
import { detectCni } from './checks/cni.ts';

export type CniProfileName = 'cilium' | 'calico' | 'generic';
export const CNI_PROFILES: readonly CniProfileName[] = ['cilium', 'calico', 'generic'];

export interface CniProfile {
  name: CniProfileName;
  /** Why this profile: `--cni`, what detection found, or the fallback. */
  source: string;
  options: EngineOptions;
}

/**
 * What each plugin does where the API leaves the choice to it. Cilium applies ipBlocks (as CIDR rules)
 * to traffic from outside the cluster only and matches selectors against the labels it derives; Calico
 * matches ipBlocks against pod IPs too; both leave hostNetwork pods to host policies.
 */
const PROFILE_OPTIONS: Readonly<Record<CniProfileName, EngineOptions>> = {
  cilium: { ipBlockMatchesPods: false, hostNetwork: 'node', ciliumIdentity: true },
  calico: { ipBlockMatchesPods: true, hostNetwork: 'node' },
  generic: { ipBlockMatchesPods: true, hostNetwork: 'node' },
};

/**
 * The profile: `--cni` when given; else the plugin the input's DaemonSets run (as HIPAA-NP-002 detects
 * it); else Cilium when the input holds Cilium policies (only Cilium enforces them), Calico when it
 * holds Calico policies; else generic.
 * Options given explicitly win over the profile's.
 */
export function cniProfile(
  /** undefined: nothing read yet (a live watch), so nothing to detect from. */
  snapshot: Snapshot | undefined,
  chosen: CniProfileName | undefined,
  explicit: Partial<EngineOptions> = {},
): CniProfile {
  const pick = (): { name: CniProfileName; source: string } => {
    if (chosen) return { name: chosen, source: '--cni' };
    if (!snapshot) return { name: 'generic', source: 'nothing read yet to detect the plugin from' };
    for (const workload of snapshot.workloads) {
      if (workload.kind !== 'DaemonSet') continue;
      const match = detectCni(workload);
      if (!match) continue;
      if (/Cilium/.test(match.cni))
        return { name: 'cilium', source: `detected: ${match.cni} (${workload.id})` };
      if (/Calico|Canal/.test(match.cni))
        return { name: 'calico', source: `detected: ${match.cni} (${workload.id})` };
    }
    if (snapshot.ciliumPolicies.length > 0)
      return { name: 'cilium', source: 'the input holds Cilium policies' };
    if (snapshot.calico && snapshot.calico.policies.length > 0)
      return { name: 'calico', source: 'the input holds Calico policies' };
    return { name: 'generic', source: 'no Cilium or Calico DaemonSet in the input' };
  };
  const { name, source } = pick();
  return { name, source, options: { ...PROFILE_OPTIONS[name], ...explicit } };
}

/** `CNI profile: cilium (detected: Cilium (kube-system/cilium[DaemonSet]))`. */
export function describeProfile(profile: CniProfile): string {
  return `CNI profile: ${profile.name} (${profile.source})`;
}
