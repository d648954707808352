import { createHash } from 'node:crypto';
import type { CiliumCidrGroup, CiliumPolicy } from '../model/cilium.ts';
import type {
  KeptObject,
  LabelSelector,
  Namespace,
  NamingRule,
  NetworkPolicy,
  Node,
  Pod,
  Provenance,
  SelectorOperator,
  Snapshot,
  Workload,
  WorkloadNames,
} from '../model/types.ts';
import { workloadId } from '../model/types.ts';
import { CalicoCollector } from './calico/collect.ts';
import {
  CALICO_KINDS,
  CALICO_NOT_ANALYSED,
  CLUSTER_SCOPED_CALICO_KINDS,
  calicoNameProblem,
  isCalicoGroup,
  readWorkloadEndpoint,
} from './calico/read-resources.ts';
import { CILIUM_GROUP, isCiliumPolicyKind, readCidrGroup, readCiliumPolicy } from './cilium/policy.ts';
import {
  CLUSTER_POLICY_GROUP,
  isClusterPolicyKind,
  type ReadClusterPolicy,
  readClusterPolicy,
  readNode,
  warnAboutClusterPolicyOrder,
} from './cluster-network-policy.ts';
import { type Diagnostic, InputError } from './diagnostics.ts';
import { type FieldKey, type ParsedDocument, parseSource } from './documents.ts';
import { dnsLabelProblem, dnsSubdomainProblem } from './names.ts';
import { readNetworkPolicy } from './network-policy.ts';
import { describe, type Fields, isFields, ObjectReader } from './object-reader.ts';
import { POD_TEMPLATE_PATHS, type PodFacts, readPodIps, readPodSpec } from './pod-spec.ts';
import { readLabels } from './read-fields.ts';
import { SkippedInputs } from './skipped-inputs.ts';
import { readSources, type SourceText } from './sources.ts';
import { controllerOf, nameWorkload, OwnerIndex, type OwnerRef } from './workload-names.ts';

export interface LoadOptions {
  /** Namespace for objects without metadata.namespace (default `default`). */
  namespace?: string;
  /** Analyse the valid objects and mark the result partial instead of failing on invalid ones. */
  skipInvalid?: boolean;
  readStdin?: (maxBytes: number) => string;
  /** `top` (default): workloads are named after their highest controller; `controller`: the immediate one. */
  workloadNames?: WorkloadNames;
  /** The most all inputs together may hold (`--max-input-bytes`, 2 GiB by default). */
  maxInputBytes?: number;
  /** Told of every file read, so that a command can refuse to write its output over one. */
  onRead?: (file: string) => void;
  /** Told of the sources read, before they are interpreted (the history keeps their objects). */
  onSources?: (sources: readonly SourceText[]) => void;
}

export interface BuildOptions extends LoadOptions {
  /** What a folder walk left out; files that turn out to hold no object are added to it. */
  skipped?: SkippedInputs;
  /** The paths the user gave: reading no Kubernetes object from them is then an error, not a clean result. */
  requireObjectsFrom?: readonly string[];
  /** How a source is parsed: parseSource, or a cache of its results (SourceCache.parse). */
  parse?: typeof parseSource;
}

/**
 * Reads paths (files, folders, `-`) into a snapshot; throws InputError listing every problem found,
 * and when the paths hold no Kubernetes object at all: a wrong path in CI must not pass as "no problems".
 */
export function loadSnapshot(paths: readonly string[], options: LoadOptions = {}): Snapshot {
  const { sources, errors, skipped } = readSources(paths, options);
  if (errors.length > 0) throw new InputError(errors);
  for (const source of sources) if (source.path !== '<stdin>') options.onRead?.(source.path);
  options.onSources?.(sources);
  return buildSnapshot(sources, { ...options, skipped, requireObjectsFrom: paths });
}

interface PendingObject {
  kind: string;
  namespace: string;
  name: string;
  object: Fields;
  reader: ObjectReader;
}

export function buildSnapshot(sources: readonly SourceText[], options: BuildOptions = {}): Snapshot {
  const defaultNamespace = options.namespace ?? 'default';
  const diagnostics: Diagnostic[] = [];
  const skippedKinds = new Map<string, number>();
  const skippedFiles = options.skipped ?? new SkippedInputs();
  const objects: PendingObject[] = [];
  const owners = new OwnerIndex();
  let invalidObjects = 0;

  const parse = options.parse ?? parseSource;
  for (const source of sources) {
    const { documents, errors } = parse(source);
    if (source.found && holdsNoObject(source.text, documents, errors.length > 0)) {
      skippedFiles.file(source.path, 'no apiVersion and kind');
      continue;
    }
    diagnostics.push(...errors);
    for (const doc of documents) {
      for (const { value, base } of objectsOf(doc, diagnostics)) {
        const { kind } = value;
        // Skipped before the header is validated: other kinds have other name rules (`system:coredns`
        // is a valid ClusterRole name) and some, like a folder's Kustomization, have no name at all.
        if (typeof kind === 'string' && kind !== '' && !isAnalysedKind(kind, value.apiVersion)) {
          const reason = isCalicoGroup(value.apiVersion) ? CALICO_NOT_ANALYSED[kind] : undefined;
          if (reason) {
            const name = (value.metadata as Fields | undefined)?.name;
            diagnostics.push({
              severity: 'warning',
              file: doc.file,
              ...doc.locate(base),
              message: `${kind} ${JSON.stringify(name)} not analysed: ${reason}`,
            });
          }
          const label = `${kind} (${String(value.apiVersion ?? 'no apiVersion')})`;
          skippedKinds.set(label, (skippedKinds.get(label) ?? 0) + 1);
          // Not analysed, but it may be the controller that names a workload (an Argo Rollout, an operator's CRD).
          const metadata = isFields(value.metadata) ? value.metadata : undefined;
          if (typeof metadata?.name === 'string') {
            const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : defaultNamespace;
            owners.add(namespace || defaultNamespace, kind, metadata.name, controllerOf(value));
          }
          continue;
        }
        const reader = new ObjectReader(doc, base, diagnostics);
        const pending = readHeader(reader, value, defaultNamespace);
        if (!pending) {
          invalidObjects++;
          continue;
        }
        objects.push(pending);
      }
    }
  }

  reportDuplicates(objects);
  const model = interpret(objects, owners, options.workloadNames ?? 'top', diagnostics);
  invalidObjects += objects.filter((o) => o.reader.errorCount > 0).length;

  if (skippedKinds.size > 0) {
    const counts = [...skippedKinds].map(([kind, n]) => `${kind} ×${n}`).join(', ');
    diagnostics.push({
      severity: 'warning',
      file: sources.length === 1 ? (sources[0]?.path ?? '<input>') : '<input>',
      message: `skipped objects of kinds phiwall does not analyse: ${counts}`,
    });
  }

  diagnostics.push(...skippedFiles.warnings());
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 && !options.skipInvalid) throw new InputError(errors);
  const analysed = objects.length - objects.filter((o) => o.reader.errorCount > 0).length;
  if (options.requireObjectsFrom && analysed === 0) {
    throw new InputError([
      nothingFound(options.requireObjectsFrom, skippedKinds, skippedFiles, invalidObjects),
    ]);
  }
  const partial = errors.length > 0;
  const warnings = diagnostics
    .filter((d) => d.severity === 'warning')
    .concat(
      partial
        ? [
            {
              severity: 'warning',
              file: '<input>',
              message: `left out ${invalidObjects} invalid input(s) (--skip-invalid): the result is partial`,
            },
          ]
        : [],
      partial ? errors.map((e) => ({ ...e, severity: 'warning' as const })) : [],
    );
  return withInputs({ ...model, warnings, skippedKinds, partial }, sources);
}

/** A snapshot whose `inputs` are `sources`, hashed when first asked. */
function withInputs(parts: Omit<Snapshot, 'inputs'>, sources: readonly SourceText[]): Snapshot {
  let inputs: Snapshot['inputs'] | undefined;
  return {
    ...parts,
    // Hashing a large dump costs as much as a tenth of reading it; only evidence-writing outputs ask.
    get inputs() {
      inputs ??= sources.map((s) => ({
        path: s.path,
        sha256: s.sha256?.() ?? createHash('sha256').update(s.text).digest('hex'),
      }));
      return inputs;
    },
  };
}

/**
 * `snapshot` with other NetworkPolicies, read from `sources`: every other part is the same object, which
 * tells the engine it can follow the change in place (differsInPoliciesAlone).
 */
export function withPolicies(
  snapshot: Snapshot,
  policies: readonly NetworkPolicy[],
  sources: readonly SourceText[],
): Snapshot {
  const parts = Object.fromEntries(
    Object.keys(snapshot)
      .filter((key) => key !== 'inputs')
      .map((key) => [key, snapshot[key as keyof Snapshot]]),
  ) as Omit<Snapshot, 'inputs'>;
  return withInputs({ ...parts, policies }, sources);
}

/**
 * A file found in a folder that is not meant as Kubernetes objects: no document names a kind (a CI
 * workflow, a tool's config), or text that does not parse and never says `kind:` (a template).
 */
function holdsNoObject(text: string, documents: readonly ParsedDocument[], unparsable: boolean): boolean {
  if (unparsable) return !/["']?\bkind["']?\s*:/.test(text);
  return documents.every((doc) => !isFields(doc.value) || doc.value.kind === undefined);
}

function nothingFound(
  paths: readonly string[],
  skippedKinds: ReadonlyMap<string, number>,
  skippedFiles: SkippedInputs,
  invalid: number,
): Diagnostic {
  const where = paths.length === 0 ? 'the input' : paths.map((p) => (p === '-' ? '<stdin>' : p)).join(', ');
  const notes: string[] = [];
  if (invalid > 0) notes.push(`${invalid} invalid object(s) left out by --skip-invalid`);
  if (skippedKinds.size > 0)
    notes.push(
      `only kinds phiwall does not analyse: ${[...skippedKinds].map(([k, n]) => `${k} ×${n}`).join(', ')}`,
    );
  const skipped = skippedFiles.describe();
  if (skipped) notes.push(skipped);
  return {
    severity: 'error',
    file: '<input>',
    message: `no Kubernetes objects found in ${where}${notes.length ? ` (${notes.join('; ')})` : ''}`,
  };
}

/** The objects of one document: itself, or the items of a List (`kind: List` and every `*List` kind). */
function* objectsOf(
  doc: ParsedDocument,
  diagnostics: Diagnostic[],
): Generator<{ value: Fields; base: FieldKey[] }> {
  const { value } = doc;
  if (value === null || value === undefined) return;
  if (
    Array.isArray(value) ||
    !isFields(value) ||
    (value.kind === undefined && value.apiVersion === undefined && value.metadata === undefined)
  ) {
    diagnostics.push({
      severity: 'warning',
      file: doc.file,
      ...doc.locate([]),
      message: 'not a Kubernetes object (no apiVersion, kind or metadata): skipped',
    });
    return;
  }
  if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
    for (const [i, item] of value.items.entries()) {
      // API list responses leave the kind out of their items: a NamespaceList holds Namespaces.
      if (isFields(item)) yield { value: withListDefaults(item, value), base: ['items', i] };
      else {
        // The API server rejects a null item too: it must not vanish from the analysis unseen.
        diagnostics.push({
          severity: 'error',
          file: doc.file,
          ...doc.locate(['items', i]),
          field: `items[${i}]`,
          message: `must be an object, not ${describe(item)}`,
        });
      }
    }
    return;
  }
  yield { value, base: [] };
}

function withListDefaults(item: Fields, list: Fields): Fields {
  const kind = list.kind as string;
  if (item.kind !== undefined || kind === 'List') return item;
  return { ...item, kind: kind.slice(0, -'List'.length), apiVersion: item.apiVersion ?? list.apiVersion };
}

function readHeader(
  reader: ObjectReader,
  object: Fields,
  defaultNamespace: string,
): PendingObject | undefined {
  const kind = object.kind;
  if (typeof kind !== 'string' || kind === '') {
    reader.error(['kind'], 'required value: every object needs a kind');
    return undefined;
  }
  if (typeof object.apiVersion !== 'string' || object.apiVersion === '') {
    reader.error(['apiVersion'], `required value: this ${kind} has no apiVersion`);
  } else {
    const unserved = UNSERVED_VERSIONS[kind]?.[object.apiVersion];
    if (unserved) reader.error(['apiVersion'], `${kind} ${object.apiVersion} ${unserved}`);
  }
  const metadata = reader.fields(object.metadata, ['metadata']);
  // `metadata.lables` is rejected by kubectl's strict field validation, as a typo under spec is.
  if (metadata) reader.onlyKnownFields(metadata, ['metadata'], OBJECT_META_FIELDS);
  const name = reader.string(metadata?.name, ['metadata', 'name']);
  if (!name) {
    reader.error(['metadata', 'name'], `required value: this ${kind} has no name`);
    return undefined;
  }
  const namespace = reader.string(metadata?.namespace, ['metadata', 'namespace']) || defaultNamespace;
  const problem = isCalicoGroup(object.apiVersion)
    ? calicoNameProblem(name)
    : kind === 'Namespace' || kind === 'Service'
      ? dnsLabelProblem(name)
      : dnsSubdomainProblem(name);
  if (problem) reader.error(['metadata', 'name'], `invalid name "${name}": ${problem}`);
  const namespaceProblem = dnsLabelProblem(namespace);
  if (namespaceProblem)
    reader.error(['metadata', 'namespace'], `invalid namespace "${namespace}": ${namespaceProblem}`);
  return { kind, namespace: CLUSTER_SCOPED.has(kind) ? '' : namespace, name, object, reader };
}

/** The fields of ObjectMeta (meta/v1), including those the API server sets, which dumps carry. */
const OBJECT_META_FIELDS = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

/**
 * API versions of analysed kinds that Kubernetes does not serve (any more): reading them as the served
 * version would analyse what no cluster accepts.
 */
const UNSERVED_VERSIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  NetworkPolicy: {
    'extensions/v1beta1':
      'is no longer served (removed in Kubernetes 1.16): use networking.k8s.io/v1, which phiwall reads',
    'networking.k8s.io/v1beta1':
      'is not an API version Kubernetes serves: use networking.k8s.io/v1, which phiwall reads',
  },
};

/** Kinds without a namespace: duplicates are keyed by name alone, and no namespace is implied. */
const CLUSTER_SCOPED: ReadonlySet<string> = new Set([
  'Namespace',
  'Node',
  'AdminNetworkPolicy',
  'BaselineAdminNetworkPolicy',
  'ClusterNetworkPolicy',
  'CiliumClusterwideNetworkPolicy',
  'CiliumCIDRGroup',
  ...CLUSTER_SCOPED_CALICO_KINDS,
]);

/**
 * The API groups of the kinds phiwall analyses. A kind of the same name in another group (a Calico
 * NetworkPolicy, a Knative Service, a Volcano Job) is a different object, skipped like any other.
 */
const ANALYSED_GROUPS: Readonly<Record<string, readonly string[]>> = {
  Namespace: [''],
  Pod: [''],
  Service: [''],
  ReplicationController: [''],
  Deployment: ['apps', 'extensions'],
  ReplicaSet: ['apps', 'extensions'],
  StatefulSet: ['apps'],
  DaemonSet: ['apps', 'extensions'],
  Job: ['batch'],
  CronJob: ['batch'],
  NetworkPolicy: ['networking.k8s.io', 'extensions'],
  Ingress: ['networking.k8s.io', 'extensions'],
  AdminNetworkPolicy: [CLUSTER_POLICY_GROUP],
  BaselineAdminNetworkPolicy: [CLUSTER_POLICY_GROUP],
  ClusterNetworkPolicy: [CLUSTER_POLICY_GROUP],
  Node: [''],
  CiliumNetworkPolicy: [CILIUM_GROUP],
  CiliumClusterwideNetworkPolicy: [CILIUM_GROUP],
  CiliumCIDRGroup: [CILIUM_GROUP],
};

/** Objects without an apiVersion are kept (and rejected later) so the error names the missing field. */
function isAnalysedKind(kind: string, apiVersion: unknown): boolean {
  if (isCalicoGroup(apiVersion)) return CALICO_KINDS.includes(kind);
  const groups = ANALYSED_GROUPS[kind];
  if (!groups) return false;
  if (typeof apiVersion !== 'string') return true;
  return groups.includes(apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '');
}

function reportDuplicates(objects: readonly PendingObject[]): void {
  const seen = new Map<string, PendingObject>();
  for (const o of objects) {
    // A Calico NetworkPolicy and a Kubernetes one of the same name are different objects.
    const group = isCalicoGroup(o.object.apiVersion) ? 'projectcalico.org:' : '';
    const key = `${group}${o.kind}/${o.namespace}/${o.name}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, o);
      continue;
    }
    const { line } = first.reader.provenance().locate();
    const what = o.namespace ? `${o.namespace}/${o.name}` : o.name;
    o.reader.error(
      ['metadata', 'name'],
      `duplicate ${o.kind} "${what}" (first defined at ${first.reader.file}:${line})`,
    );
  }
}

function interpret(
  objects: readonly PendingObject[],
  owners: OwnerIndex,
  names: WorkloadNames,
  diagnostics: Diagnostic[],
): Omit<Snapshot, 'inputs' | 'warnings' | 'partial' | 'skippedKinds'> {
  for (const o of objects) if (o.namespace) owners.add(o.namespace, o.kind, o.name, controllerOf(o.object));
  const rules = new Map<string, NamingRule>();
  // A workload object's template stands for pods it controls: the object is their first controller.
  const nameOf = (
    self: string,
    namespace: string,
    first: OwnerRef | undefined,
    labels: Fields,
    template = false,
  ) => {
    const chain = owners.chain(namespace, first, labels, template ? [self] : []);
    const { workload, rule } = nameWorkload(self, chain, names, owners);
    if (rule !== 'object' && rules.get(workload) !== 'pod-template-hash') rules.set(workload, rule);
    return { workload, controllers: chain.links };
  };
  const namespaces = new Map<string, Namespace>();
  const pods: Pod[] = [];
  const policies: NetworkPolicy[] = [];
  const services: KeptObject[] = [];
  const ingresses: KeptObject[] = [];
  const clusterPolicies: ReadClusterPolicy[] = [];
  const nodes: Node[] = [];
  const ciliumPolicies: CiliumPolicy[] = [];
  const ciliumCidrGroups: CiliumCidrGroup[] = [];
  const ciliumHostPolicies: { id: string; provenance: Provenance }[] = [];
  const calico = new CalicoCollector();
  const templates: Template[] = [];
  let finishedPods = 0;

  for (const pending of objects) {
    const { kind, namespace, name, object, reader } = pending;
    const labels = readLabels(reader, (object.metadata as Fields | undefined)?.labels, [
      'metadata',
      'labels',
    ]);
    let keep: () => void;
    if (isCalicoGroup(object.apiVersion) && kind === 'WorkloadEndpoint') {
      const pod = readWorkloadEndpoint(reader, object, namespace, name, labels);
      keep = () => pods.push(pod);
    } else if (isCalicoGroup(object.apiVersion)) {
      keep = calico.read(reader, object, kind, namespace, name, labels);
    } else if (kind === 'Namespace') {
      keep = () =>
        namespaces.set(name, {
          name,
          labels: { ...labels, 'kubernetes.io/metadata.name': name },
          declared: true,
        });
    } else if (kind === 'NetworkPolicy') {
      const policy = readNetworkPolicy(reader, object, namespace, name);
      keep = () => policies.push(policy);
    } else if (isClusterPolicyKind(kind)) {
      const policy = readClusterPolicy(reader, object, kind, name);
      keep = () => clusterPolicies.push({ policy, reader });
    } else if (isCiliumPolicyKind(kind)) {
      const read = readCiliumPolicy(reader, object, kind, namespace, name);
      keep = () => {
        for (const r of read)
          if ('policy' in r) ciliumPolicies.push(r.policy);
          else ciliumHostPolicies.push({ id: r.hostPolicy, provenance: reader.provenance() });
      };
    } else if (kind === 'CiliumCIDRGroup') {
      const group = readCidrGroup(reader, object, name, labels);
      keep = () => ciliumCidrGroups.push(group);
    } else if (kind === 'Node') {
      const node = readNode(reader, object, name, labels);
      keep = () => nodes.push(node);
    } else if (kind === 'Service' || kind === 'Ingress') {
      keep = () =>
        (kind === 'Service' ? services : ingresses).push({
          kind,
          namespace,
          name,
          object,
          provenance: reader.provenance(),
        });
    } else if (kind === 'Pod') {
      const status = reader.fields(object.status, ['status']);
      // A finished pod still shows what its workload's pods look like, but its IP is released and reused.
      const finished = status?.phase === 'Succeeded' || status?.phase === 'Failed';
      const ips = readPodIps(reader, status);
      const facts = readPodSpec(reader, reader.fields(object.spec, ['spec']), ['spec']);
      const naming = nameOf(
        workloadId(namespace, name, 'Pod'),
        namespace,
        controllerOf(object, reader),
        labels,
      );
      keep = () => {
        if (finished) finishedPods++;
        pods.push({
          namespace,
          name,
          labels,
          annotations: stringMap((object.metadata as Fields | undefined)?.annotations),
          ips: finished ? [] : ips,
          ...facts,
          ...naming,
          provenance: reader.provenance(),
        });
      };
    } else {
      const path = POD_TEMPLATE_PATHS[kind] ?? [];
      const template = readTemplate(reader, object, path);
      const self = workloadId(namespace, name, kind);
      keep = () =>
        templates.push({
          self,
          pending,
          pod: {
            namespace,
            name,
            ips: [],
            ...template,
            ...nameOf(self, namespace, controllerOf(object), template.labels, true),
            provenance: reader.provenance(path),
          },
        });
    }
    // With --skip-invalid an invalid object is left out whole: a policy without its invalid rule, or one
    // whose misspelt `ingres:` was ignored, would deny what the author meant to allow.
    if (reader.errorCount === 0) keep();
  }

  if (finishedPods > 0) {
    diagnostics.push({
      severity: 'warning',
      file: '<input>',
      message: `${finishedPods} finished pod(s) (phase Succeeded or Failed): kept as the shape of their workload, their released IPs ignored`,
    });
  }
  warnAboutClusterPolicyOrder(clusterPolicies);
  pods.push(...templatesWithoutPods(templates, pods));
  const calicoResources = calico.finish(diagnostics);
  implyNamespaces(namespaces, [
    ...pods,
    ...policies,
    ...services,
    ...ingresses,
    ...ciliumPolicies.filter((p) => p.namespace !== ''),
    ...(calicoResources?.policies ?? []).flatMap((p) => (p.namespace ? [{ namespace: p.namespace }] : [])),
  ]);
  return {
    namespaces,
    workloads: groupWorkloads(pods, objects, rules),
    pods,
    policies,
    clusterPolicies: clusterPolicies.map(({ policy }) => policy),
    ciliumPolicies,
    ciliumCidrGroups,
    ...(ciliumHostPolicies.length > 0 ? { ciliumHostPolicies } : {}),
    ...(calicoResources && { calico: calicoResources }),
    nodes,
    services,
    ingresses,
  };
}

/** Annotations are read for what they say, not validated: policies cannot select on them. */
function stringMap(value: unknown): Record<string, string> {
  if (!isFields(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

function readTemplate(
  reader: ObjectReader,
  object: Fields,
  path: readonly string[],
): PodFacts & { labels: Pod['labels']; annotations: Pod['annotations'] } {
  let template: unknown = object;
  for (const key of path) template = isFields(template) ? template[key] : undefined;
  const fields = reader.fields(template, path);
  if (!fields) reader.error(path, 'required value: a workload needs a pod template');
  const metadata = reader.fields(fields?.metadata, [...path, 'metadata']);
  return {
    labels: readLabels(reader, metadata?.labels, [...path, 'metadata', 'labels']),
    annotations: stringMap(metadata?.annotations),
    ...readPodSpec(reader, reader.fields(fields?.spec, [...path, 'spec']), [...path, 'spec']),
  };
}

/** A workload object's pod template, standing for its pods; `self` is the object's own id. */
interface Template {
  self: string;
  pending: PendingObject;
  pod: Pod;
}

/**
 * A workload object stands for its pods only when the input has none of them: in a `kubectl get all`
 * dump, a Deployment, its ReplicaSet and their pods are one workload. A template whose controller is
 * in the input is left to the controller's own template.
 */
function templatesWithoutPods(templates: readonly Template[], pods: readonly Pod[]): Pod[] {
  const present = new Set(templates.map(({ self }) => self));
  const hasPods = new Set<string>();
  for (const pod of pods) for (const id of pod.controllers ?? []) hasPods.add(id);
  return templates
    .filter(({ self, pod }) => !hasPods.has(self) && !present.has(pod.controllers?.[1] ?? ''))
    .map(({ pod }) => pod);
}

function groupWorkloads(
  pods: readonly Pod[],
  objects: readonly PendingObject[],
  rules: ReadonlyMap<string, NamingRule>,
): Workload[] {
  const byId = new Map<string, Pod[]>();
  for (const pod of pods) {
    const members = byId.get(pod.workload);
    if (members) members.push(pod);
    else byId.set(pod.workload, [pod]);
  }
  // Only controllers name workloads of several pods; a bare pod is its own first member.
  const declared = new Map(
    objects.filter((o) => o.kind !== 'Pod').map((o) => [workloadId(o.namespace, o.name, o.kind), o]),
  );
  return [...byId].map(([id, members]) => {
    const first = members[0] as Pod;
    const match = /^(.*)\/(.*)\[(.*)\]$/.exec(id) as RegExpExecArray;
    return {
      id,
      namespace: first.namespace,
      name: match[2] as string,
      kind: match[3] as string,
      pods: members,
      ...(rules.has(id) ? { namedBy: rules.get(id) } : {}),
      provenance: declared.get(id)?.reader.provenance() ?? first.provenance,
      ...controllerSelector(declared.get(id)?.object),
    };
  });
}

/** A controller's `spec.selector`, when it has one phiwall can read as written. */
function controllerSelector(object: Fields | undefined): { selector?: LabelSelector } {
  const spec = object?.spec as Fields | undefined;
  const selector = spec?.selector as Fields | undefined;
  if (!selector || typeof selector !== 'object') return {};
  const labels = selector.matchLabels ?? {};
  const expressions = selector.matchExpressions ?? [];
  if (typeof labels !== 'object' || !Array.isArray(expressions)) return {};
  const matchLabels = Object.fromEntries(Object.entries(labels as Fields).map(([k, v]) => [k, String(v)]));
  const matchExpressions = expressions.flatMap((e: Fields) =>
    typeof e?.key === 'string' && ['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator as string)
      ? [
          {
            key: e.key,
            operator: e.operator as SelectorOperator,
            values: Array.isArray(e.values) ? e.values.map(String) : [],
          },
        ]
      : [],
  );
  if (Object.keys(matchLabels).length === 0 && matchExpressions.length === 0) return {};
  return { selector: { matchLabels, matchExpressions } };
}

/** Objects in a namespace the input does not declare imply it, with the one label the API server sets. */
export function implyNamespaces(
  namespaces: Map<string, Namespace>,
  objects: Iterable<{ namespace: string }>,
): void {
  for (const { namespace } of objects) {
    if (!namespaces.has(namespace)) {
      namespaces.set(namespace, {
        name: namespace,
        labels: { 'kubernetes.io/metadata.name': namespace },
        declared: false,
      });
    }
  }
}
