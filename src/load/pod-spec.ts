import { parseAddress } from '../engine/addresses.ts';
import type { NamedPort } from '../model/types.ts';
import type { FieldKey } from './documents.ts';
import { portNameProblem } from './names.ts';
import type { Fields, ObjectReader } from './object-reader.ts';
import { isPortNumber, readProtocol } from './read-fields.ts';

/** Where each workload kind keeps the pod template that policies see. */
export const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export interface PodFacts {
  namedPorts: NamedPort[];
  hostNetwork: boolean;
}

/**
 * The facts of a pod spec that NetworkPolicy semantics depend on: the named container ports (of app
 * containers and of restartable init containers, which keep running as sidecars) and hostNetwork.
 */
export function readPodSpec(reader: ObjectReader, spec: Fields | undefined, path: readonly FieldKey[]): PodFacts {
  const namedPorts: NamedPort[] = [];
  for (const group of ['containers', 'initContainers'] as const) {
    const containers = reader.list(spec?.[group], [...path, group]) ?? [];
    containers.forEach((rawContainer, c) => {
      const containerPath = [...path, group, c];
      const container = reader.fields(rawContainer, containerPath);
      if (!container || (group === 'initContainers' && container.restartPolicy !== 'Always')) return;
      const ports = reader.list(container.ports, [...containerPath, 'ports']) ?? [];
      ports.forEach((rawPort, p) => {
        const portPath = [...containerPath, 'ports', p];
        const port = reader.fields(rawPort, portPath);
        if (!port) return;
        const protocol = readProtocol(reader, port.protocol, [...portPath, 'protocol']);
        if (!isPortNumber(port.containerPort)) {
          reader.error([...portPath, 'containerPort'], `must be a port number between 1 and 65535`);
          return;
        }
        const name = reader.string(port.name, [...portPath, 'name']);
        if (name === undefined) return;
        const problem = portNameProblem(name);
        if (problem) reader.error([...portPath, 'name'], `invalid port name "${name}": ${problem}`);
        namedPorts.push({ name, protocol, port: port.containerPort });
      });
    });
  }
  return { namedPorts, hostNetwork: spec?.hostNetwork === true };
}

/** status.podIPs (dual-stack) and status.podIP, validated and without repeats. */
export function readPodIps(reader: ObjectReader, status: Fields | undefined): string[] {
  const ips = new Set<string>();
  const check = (value: unknown, path: FieldKey[]) => {
    const ip = reader.string(value, path);
    if (ip === undefined || ip === '') return;
    if (parseAddress(ip) === undefined) reader.error(path, `"${ip}" is not a valid IP address`);
    else ips.add(ip);
  };
  check(status?.podIP, ['status', 'podIP']);
  (reader.list(status?.podIPs, ['status', 'podIPs']) ?? []).forEach((entry, i) => {
    check(reader.fields(entry, ['status', 'podIPs', i])?.ip, ['status', 'podIPs', i, 'ip']);
  });
  return [...ips];
}
