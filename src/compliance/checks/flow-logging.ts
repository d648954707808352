import type { Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, Check } from '../types.ts';
import {
  CILIUM_IMAGE,
  cniEvidence,
  containersOf,
  daemonSets,
  detectCni,
  envValue,
  flagValue,
  goBool,
  image,
  KUBE_SYSTEM_HINT,
} from './cni.ts';
import { locationOf, phiWorkloads } from './support.ts';

// HIPAA-NP-029: flow logging

interface FlowLogging {
  workload: Workload;
  what: string;
}

function flowLoggingOf(workload: Workload): FlowLogging | undefined {
  const containers = containersOf(workload);
  const found = (what: string): FlowLogging => ({ workload, what });
  const relay = image(containers, /(^|\/)hubble-relay([:@]|$)/);
  if (workload.name === 'hubble-relay' || relay)
    return found(`Hubble Relay (${relay ? `image ${relay.image}` : workload.id})`);
  if (
    workload.kind === 'DaemonSet' &&
    (image(containers, CILIUM_IMAGE) || ['cilium', 'anetd'].includes(workload.name))
  ) {
    const env = envValue(containers, 'CILIUM_ENABLE_HUBBLE');
    if (flagValue(containers, 'enable-hubble') === true || (env !== undefined && goBool(env) === true))
      return found('Hubble enabled on the Cilium agent (enable-hubble)');
  }
  const felix = envValue(containers, 'FELIX_FLOWLOGSFILEENABLED');
  if (felix !== undefined && goBool(felix) === true)
    return found(`Calico flow logs (FELIX_FLOWLOGSFILEENABLED=${felix})`);
  const aggregator = image(containers, /(^|\/)antrea\/flow-aggregator([:@]|$)/);
  if (aggregator) return found(`Antrea Flow Aggregator (image ${aggregator.image})`);
  if (flagValue(containers, 'enable-policy-event-logs') === true)
    return found('AWS network policy agent policy event logs (--enable-policy-event-logs=true)');
  return undefined;
}

export function phiNamespaces(context: AuditContext): string[] {
  return [...new Set(phiWorkloads(context).map((w) => w.namespace))].sort();
}

export const flowLogging: Check = {
  id: 'HIPAA-NP-029',
  run(context) {
    const logging = context.snapshot.workloads.flatMap((w) => flowLoggingOf(w) ?? []);
    const namespaces = phiNamespaces(context);
    // Flow logs given to the audit are the evidence itself: something records flows.
    if (context.observed) {
      const { files, comparison } = context.observed;
      const window = comparison.window ? ` from ${comparison.window.from} to ${comparison.window.to}` : '';
      return [
        {
          status: 'pass',
          objects: namespaces,
          evidence: {
            notes: [
              `flow logs given: ${files.join(', ')}: ${comparison.mapped.records} records (${comparison.mapped.flows} flows)${window}`,
              ...logging.map((l) => `${l.workload.id}: ${l.what}`),
              'the report compares them with policy for the PHI workloads (Observed traffic vs policy)',
            ],
          },
        },
      ];
    }
    if (logging.length > 0) {
      return [
        {
          status: 'pass',
          objects: namespaces,
          evidence: {
            notes: logging.map((l) => `${l.workload.id}: ${l.what}`),
            rules: logging.map((l) => ({ rule: l.workload.id, at: where(l.workload.provenance) })),
          },
          location: locationOf((logging[0] as FlowLogging).workload.provenance),
        },
      ];
    }
    const cnis = daemonSets(context).flatMap((w) => detectCni(w) ?? []);
    // Agents and their settings live in DaemonSets: without them the input cannot show logging either way.
    const kubeSystem = daemonSets(context).filter((w) => w.namespace === 'kube-system');
    if (cnis.length === 0 && kubeSystem.length === 0) {
      return [
        {
          status: 'not-assessable',
          objects: namespaces,
          evidence: { notes: [`no kube-system DaemonSets in input: ${KUBE_SYSTEM_HINT}`] },
        },
      ];
    }
    const notes = [
      cnis.length > 0
        ? `CNI found: ${cnis.map((m) => `${m.cni} (${m.workload.id})`).join(', ')}, without flow logging`
        : `no CNI recognised among ${kubeSystem.map((w) => w.id).join(', ')}`,
      'looked for: Hubble (hubble-relay, Cilium enable-hubble), Calico flow logs (FELIX_FLOWLOGSFILEENABLED=true), Antrea Flow Aggregator, AWS policy event logs',
    ];
    return [
      {
        status: 'fail',
        objects: namespaces,
        evidence: { notes, rules: cniEvidence(cnis) },
        remediation: {
          text: 'Record flows of PHI namespaces: enable Hubble (Cilium: hubble.enabled=true with hubble-relay) or Calico flow logs (FelixConfiguration flowLogsFileEnabled: true); if another source (VPC flow logs, a service mesh) covers them, attest it and accept this finding.',
        },
      },
    ];
  },
};
