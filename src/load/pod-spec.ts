import { parseAddress } from '../engine/addresses.ts';
import { type ContainerFacts, type NamedPort, PROTOCOLS, type Protocol } from '../model/types.ts';
import type { FieldKey } from './documents.ts';
import { portNameProblem } from './names.ts';
import { describe, type Fields, type ObjectReader } from './object-reader.ts';
import { isPortNumber } from './read-fields.ts';

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
  serviceAccount?: string;
  containers: ContainerFacts[];
}

/**
 * The facts of a pod spec that NetworkPolicy semantics depend on: the named container ports (of app
 * containers and of restartable init containers, which keep running as sidecars) and hostNetwork.
 */
export function readPodSpec(
  reader: ObjectReader,
  spec: Fields | undefined,
  path: readonly FieldKey[],
): PodFacts {
  const namedPorts: NamedPort[] = [];
  const facts: ContainerFacts[] = [];
  for (const group of ['containers', 'initContainers'] as const) {
    const containers = reader.list(spec?.[group], [...path, group]) ?? [];
    containers.forEach((rawContainer, c) => {
      const containerPath = [...path, group, c];
      const container = reader.fields(rawContainer, containerPath);
      if (!container) return;
      const ports = reader.list(container.ports, [...containerPath, 'ports']) ?? [];
      facts.push(containerFacts(container, ports));
      if (group === 'initContainers' && container.restartPolicy !== 'Always') return;
      ports.forEach((rawPort, p) => {
        const portPath = [...containerPath, 'ports', p];
        const port = reader.fields(rawPort, portPath);
        if (!port) return;
        // The API server rejects a quoted number (`containerPort: "8080"`) when it decodes the object.
        for (const field of ['containerPort', 'hostPort'] as const) {
          const value = port[field];
          if (value !== undefined && !(typeof value === 'number' && Number.isInteger(value)))
            reader.error([...portPath, field], `must be an integer, not ${describe(value)}`);
        }
        // Only the names and numbers of ports matter to policies, so a malformed container port is
        // left out with a warning (it can only narrow what a named-port rule allows), not fatal.
        const protocol = port.protocol ?? 'TCP';
        const name = port.name;
        if (typeof name !== 'string') return;
        const problem = !isPortNumber(port.containerPort)
          ? 'containerPort must be a port number between 1 and 65535'
          : !PROTOCOLS.includes(protocol as Protocol)
            ? `unsupported protocol ${JSON.stringify(protocol)}`
            : portNameProblem(name);
        if (problem) {
          reader.warn(portPath, `named port "${name}" ignored: ${problem}`);
          return;
        }
        namedPorts.push({ name, protocol: protocol as Protocol, port: port.containerPort as number });
      });
    });
  }
  // serviceAccount is the deprecated spelling the API server still copies into serviceAccountName.
  const account = spec?.serviceAccountName ?? spec?.serviceAccount;
  return {
    namedPorts,
    hostNetwork: spec?.hostNetwork === true,
    ...(typeof account === 'string' && account !== '' ? { serviceAccount: account } : {}),
    containers: facts,
  };
}

/** What audit checks read of a container: its image and arguments (to recognise a CNI) and host ports. */
function containerFacts(container: Fields, ports: unknown[]): ContainerFacts {
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  return {
    name: typeof container.name === 'string' ? container.name : '',
    image: typeof container.image === 'string' ? container.image : '',
    args: [...strings(container.command), ...strings(container.args)],
    env: Array.isArray(container.env)
      ? container.env.flatMap((e) =>
          e && typeof e === 'object' && typeof e.name === 'string' && typeof e.value === 'string'
            ? [`${e.name}=${e.value}`]
            : [],
        )
      : [],
    containerPorts: ports.flatMap((port) =>
      port && typeof port === 'object' && isPortNumber((port as Fields).containerPort)
        ? [
            {
              port: (port as Fields).containerPort as number,
              protocol: String((port as Fields).protocol ?? 'TCP'),
            },
          ]
        : [],
    ),
    hostPorts: ports.flatMap((port) =>
      port && typeof port === 'object' && isPortNumber((port as Fields).hostPort)
        ? [(port as Fields).hostPort as number]
        : [],
    ),
  };
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
