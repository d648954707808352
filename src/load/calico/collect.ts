import type {
  CalicoNetworkSet,
  CalicoPolicy,
  CalicoPolicyKind,
  CalicoProfile,
  CalicoResources,
  CalicoTier,
} from '../../model/calico.ts';
import { compareOrder, DEFAULT_TIER, DEFAULT_TIER_DEFINITION } from '../../model/calico.ts';
import type { Labels } from '../../model/types.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { Fields, ObjectReader } from '../object-reader.ts';
import { readCalicoPolicy, readNetworkSet, readProfile, readTier } from './read-resources.ts';

/** Gathers the Calico objects of one input, then checks what only the whole input can tell. */
export class CalicoCollector {
  private readonly policies: { policy: CalicoPolicy; reader: ObjectReader }[] = [];
  private readonly tiers: CalicoTier[] = [];
  private readonly networkSets: CalicoNetworkSet[] = [];
  private readonly profiles: CalicoProfile[] = [];
  private seen = false;

  /** Reads one object of a Calico kind; returns what to keep once the object proves valid. */
  read(
    reader: ObjectReader,
    object: Fields,
    kind: string,
    namespace: string,
    name: string,
    labels: Labels,
  ): () => void {
    this.seen = true;
    if (kind === 'NetworkPolicy' || kind === 'GlobalNetworkPolicy') {
      const policy = readCalicoPolicy(reader, object, kind as CalicoPolicyKind, namespace, name);
      return () => {
        if (policy) this.policies.push({ policy, reader });
      };
    }
    if (kind === 'Tier') {
      const tier = readTier(reader, object, name);
      return () => this.tiers.push(tier);
    }
    if (kind === 'Profile') {
      const profile = readProfile(reader, object, name);
      return () => this.profiles.push(profile);
    }
    const set = readNetworkSet(reader, object, kind === 'NetworkSet' ? namespace : undefined, name, labels);
    return () => this.networkSets.push(set);
  }

  /** undefined when the input had no Calico objects. */
  finish(diagnostics: Diagnostic[]): CalicoResources | undefined {
    if (!this.seen) return undefined;
    const declared = new Set(this.tiers.map((t) => t.name));
    if (!declared.has(DEFAULT_TIER)) {
      this.tiers.push(DEFAULT_TIER_DEFINITION);
      declared.add(DEFAULT_TIER);
    }
    const policies: CalicoPolicy[] = [];
    for (const { policy, reader } of this.policies) {
      if (declared.has(policy.tier)) {
        policies.push(policy);
        continue;
      }
      // Calico refuses a policy in a tier that does not exist; the input may just lack the Tier object.
      const { line, column } = reader.provenance(['spec', 'tier']).locate();
      diagnostics.push({
        severity: 'warning',
        file: reader.file,
        line,
        column,
        field: 'spec.tier',
        message: `tier "${policy.tier}" is not in the input: it is taken as order unset (last) with defaultAction Deny`,
      });
      declared.add(policy.tier);
      this.tiers.push({ name: policy.tier, defaultAction: 'Deny' });
      policies.push(policy);
    }
    return {
      policies,
      tiers: [...this.tiers].sort(compareOrder),
      networkSets: this.networkSets,
      profiles: this.profiles,
    };
  }
}
