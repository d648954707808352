import { NO_PORTS, type PortSet, unionPorts } from '../../engine/ports.ts';
import type { KeptObject, Workload } from '../../model/types.ts';
import { type Pod, PROTOCOLS, type Protocol } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext } from '../types.ts';
import { phiWorkloads } from './support.ts';

export function objectId(object: KeptObject): string {
  return `${object.namespace}/${object.name}`;
}

export type Fields = Record<string, unknown>;

export function specOf(object: KeptObject): Fields {
  const spec = object.object.spec;
  return spec && typeof spec === 'object' ? (spec as Fields) : {};
}

/** A Service with a non-empty selector selects the pods of its namespace carrying every pair. */
function serviceSelects(service: KeptObject, pod: Pod): boolean {
  if (service.namespace !== pod.namespace) return false;
  const selector = specOf(service).selector;
  if (!selector || typeof selector !== 'object') return false;
  const pairs = Object.entries(selector as Fields);
  return pairs.length > 0 && pairs.every(([key, value]) => pod.labels[key] === String(value));
}

/** The workloads among `workloads` that a Service selects. */
export function serviceWorkloads(workloads: readonly Workload[], service: KeptObject): Workload[] {
  return workloads.filter((w) => w.pods.some((pod) => serviceSelects(service, pod)));
}

export function phiWorkloadsOfService(context: AuditContext, service: KeptObject): Workload[] {
  return serviceWorkloads(phiWorkloads(context), service);
}

const TLS_APP_PROTOCOLS = new Set(['https', 'kubernetes.io/wss', 'tls']);

/**
 * Pod ports of `workload` that Services selecting it send to, for the Service ports `describe` picks
 * (it returns why the port counts, or undefined): named target ports resolve on the pods.
 */
function servicePorts(
  context: AuditContext,
  workload: Workload,
  describe: (service: KeptObject, entry: Fields) => string | undefined,
): { ports: PortSet; services: string[] } {
  let ports = NO_PORTS;
  const services: string[] = [];
  for (const service of context.snapshot.services) {
    const pods = workload.pods.filter((pod) => serviceSelects(service, pod));
    if (pods.length === 0) continue;
    const entries = Array.isArray(specOf(service).ports) ? (specOf(service).ports as Fields[]) : [];
    for (const entry of entries) {
      const why = describe(service, entry);
      if (why === undefined) continue;
      const protocol = (PROTOCOLS as readonly unknown[]).includes(entry.protocol)
        ? (entry.protocol as Protocol)
        : 'TCP';
      const target = entry.targetPort ?? entry.port;
      const numbers =
        typeof target === 'number'
          ? [target]
          : pods.flatMap((pod) =>
              pod.namedPorts.filter((p) => p.name === target && p.protocol === protocol).map((p) => p.port),
            );
      for (const port of numbers) {
        ports = unionPorts(ports, { ...NO_PORTS, [protocol]: [[port, port]] });
        services.push(`Service ${objectId(service)} port ${String(entry.port)} -> ${port} ${why}`);
      }
    }
  }
  return { ports, services };
}

/** Pod ports that a Service selecting the workload marks as carrying TLS (appProtocol https …). */
export function tlsServicePorts(context: AuditContext, workload: Workload) {
  return servicePorts(context, workload, (_, entry) => {
    const appProtocol = typeof entry.appProtocol === 'string' ? entry.appProtocol.toLowerCase() : '';
    return TLS_APP_PROTOCOLS.has(appProtocol) ? `appProtocol ${appProtocol}` : undefined;
  });
}

/** How a Service is published outside the cluster: NodePort, LoadBalancer or externalIPs, if at all. */
export function nodeExposure(service: KeptObject): string | undefined {
  const spec = specOf(service);
  const type = typeof spec.type === 'string' ? spec.type : 'ClusterIP';
  const externalIPs = Array.isArray(spec.externalIPs) ? (spec.externalIPs as unknown[]).map(String) : [];
  const how = [
    ...(type === 'NodePort' || type === 'LoadBalancer' ? [`type ${type}`] : []),
    ...(externalIPs.length ? [`externalIPs ${externalIPs.join(', ')}`] : []),
  ];
  return how.length ? how.join(' and ') : undefined;
}

/** Pod ports published outside the cluster: by NodePort, LoadBalancer or externalIPs Services, or Ingress backends. */
export function publishedPorts(context: AuditContext, workload: Workload) {
  const backends = new Set(
    context.snapshot.ingresses.flatMap((ingress) =>
      routesOf(ingress).map((route) => `${ingress.namespace}/${route.service}`),
    ),
  );
  return servicePorts(context, workload, (service) => {
    const how = nodeExposure(service);
    if (how) return `(${how})`;
    return backends.has(objectId(service)) ? '(an Ingress backend)' : undefined;
  });
}

/** `*.example.com` covers exactly one more label, as TLS certificates do. */
export function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(1);
  const label = host.slice(0, host.length - suffix.length);
  return host.endsWith(suffix) && label.length > 0 && !label.includes('.');
}

/** Backends of an Ingress, networking.k8s.io/v1 and the older extensions/v1beta1 shape. */
export function routesOf(
  ingress: KeptObject,
): { host?: string; path: string; service: string; at: string }[] {
  const spec = specOf(ingress);
  const at = where(ingress.provenance);
  const serviceOf = (backend: unknown): string | undefined => {
    if (!backend || typeof backend !== 'object') return undefined;
    const fields = backend as Fields;
    const service = fields.service as Fields | undefined;
    const name = service?.name ?? fields.serviceName;
    return typeof name === 'string' ? name : undefined;
  };
  const routes: { host?: string; path: string; service: string; at: string }[] = [];
  const fallback = serviceOf(spec.defaultBackend ?? spec.backend);
  if (fallback) routes.push({ path: ' (default backend)', service: fallback, at });
  for (const rule of Array.isArray(spec.rules) ? (spec.rules as Fields[]) : []) {
    const host = typeof rule.host === 'string' ? rule.host : undefined;
    const http = (rule.http ?? {}) as Fields;
    for (const path of Array.isArray(http.paths) ? (http.paths as Fields[]) : []) {
      const service = serviceOf(path.backend);
      if (service) routes.push({ host, path: typeof path.path === 'string' ? path.path : '/', service, at });
    }
  }
  return routes;
}
