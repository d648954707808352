import type { Workload } from '../../model/types.ts';
import { scalar } from '../remediation/manifests.ts';
import type { Check, FindingDraft } from '../types.ts';
import { locationOf } from './support.ts';
import {
  type Fields,
  hostMatches,
  objectId,
  phiWorkloadsOfService,
  routesOf,
  specOf,
} from './util-services.ts';

/** HIPAA-NP-021: an Ingress without TLS carries ePHI in cleartext from clients to the cluster edge. */
export const check021: Check = {
  id: 'HIPAA-NP-021',
  run(context) {
    const { ingresses, services } = context.snapshot;
    if (ingresses.length === 0 || services.length === 0) {
      const missing = [ingresses.length === 0 ? 'Ingress' : '', services.length === 0 ? 'Service' : '']
        .filter(Boolean)
        .join(' and ');
      return [
        {
          status: 'not-assessable',
          objects: [],
          evidence: {
            notes: [
              `no ${missing} objects in input: add the Ingress and Service manifests to assess routes to PHI`,
            ],
          },
        },
      ];
    }
    const findings: FindingDraft[] = [];
    for (const ingress of ingresses) {
      const spec = specOf(ingress);
      const tls = Array.isArray(spec.tls) ? (spec.tls as Fields[]) : [];
      const covered = (host: string | undefined): boolean =>
        tls.some((entry) => {
          const hosts = Array.isArray(entry.hosts) ? (entry.hosts as unknown[]).map(String) : [];
          // A TLS entry without hosts applies to every host the controller serves.
          if (hosts.length === 0) return true;
          if (host === undefined) return false;
          return hosts.some((h) => hostMatches(h, host));
        });
      const plainRoutes: { host?: string; path: string; service: string; at: string }[] = [];
      for (const route of routesOf(ingress)) if (!covered(route.host)) plainRoutes.push(route);
      const phiServices = new Map<string, Workload[]>();
      const missing = new Set<string>();
      const notes: string[] = [];
      for (const route of plainRoutes) {
        const service = services.find((s) => s.namespace === ingress.namespace && s.name === route.service);
        if (!service) {
          missing.add(route.service);
          continue;
        }
        const workloads = phiWorkloadsOfService(context, service);
        if (workloads.length === 0) continue;
        phiServices.set(objectId(service), workloads);
        notes.push(
          `${route.host ?? '(any host)'}${route.path} -> Service ${objectId(service)} (selects ${workloads.map((w) => w.id).join(', ')}) at ${route.at}: no spec.tls entry covers the host`,
        );
      }
      if (phiServices.size > 0) {
        const hosts = [
          ...new Set(plainRoutes.map((r) => r.host).filter((h): h is string => h !== undefined)),
        ];
        findings.push({
          status: 'fail',
          objects: [
            objectId(ingress),
            ...phiServices.keys(),
            ...[...phiServices.values()].flat().map((w) => w.id),
          ],
          evidence: { notes },
          remediation: {
            text:
              `Serve these hosts over TLS: add a spec.tls entry (kubectl patch ingress ${ingress.name} -n ${ingress.namespace} ` +
              '--type merge --patch-file tls.yaml, with the certificate in the named Secret) and redirect HTTP to HTTPS.',
            yaml: `spec:\n  tls:\n    - hosts: [${hosts.map(scalar).join(', ')}]\n      secretName: ${ingress.name}-tls\n`,
          },
          location: locationOf(ingress.provenance),
        });
      } else if (missing.size > 0) {
        findings.push({
          status: 'not-assessable',
          objects: [objectId(ingress)],
          evidence: {
            notes: [
              `routes without TLS lead to Services not in input: ${[...missing].map((s) => `${ingress.namespace}/${s}`).join(', ')}; add them to assess whether they select PHI`,
            ],
          },
          location: locationOf(ingress.provenance),
        });
      }
    }
    return findings;
  },
};
