/**
 * The input of `phiwall serve` as plain data: what a worker thread is sent to load a generation itself
 * (a Snapshot holds closures and cannot cross a thread), and the loader that reads it again as it changes.
 */
import { InputError } from '../load/diagnostics.ts';
import type { ClusterListing } from '../load/live/list.ts';
import { snapshotOfListing } from '../load/live/snapshot.ts';
import { isFields } from '../load/object-reader.ts';
import { type BuildOptions, buildSnapshot, loadSnapshot, withPolicies } from '../load/snapshot.ts';
import { SourceCache } from '../load/source-cache.ts';
import { readSources, type SourceText } from '../load/sources.ts';
import type { NetworkPolicy, Snapshot, WorkloadNames } from '../model/types.ts';

export type InputSpec =
  | {
      kind: 'files';
      paths: string[];
      namespace?: string;
      skipInvalid?: boolean;
      workloadNames?: WorkloadNames;
    }
  | { kind: 'listing'; listing: ClusterListing; skipInvalid?: boolean; workloadNames?: WorkloadNames };

/** Reads the input; throws InputError for input that cannot be loaded. */
export function loadInput(input: InputSpec): Snapshot {
  const { skipInvalid, workloadNames } = input;
  if (input.kind === 'listing') return snapshotOfListing(input.listing, { skipInvalid, workloadNames });
  return loadSnapshot(input.paths, { namespace: input.namespace, skipInvalid, workloadNames });
}

interface Loaded {
  /** The input spec and the files a folder walk left out: a step from this load needs both unchanged. */
  key: string;
  sources: readonly SourceText[];
  snapshot: Snapshot;
}

type StepOptions = BuildOptions & { parse: NonNullable<BuildOptions['parse']> };

/**
 * loadInput for a thread that loads the same input again and again: files are read and parsed again
 * only when they changed (SourceCache); when the files that changed hold NetworkPolicies alone, before
 * and after, the last snapshot is kept with the policies they now hold (withPolicies), which the
 * analysis follows in place. Any other change is loaded whole.
 */
export class InputLoader {
  private readonly cache = new SourceCache();
  private last: Loaded | undefined;

  load(input: InputSpec): Snapshot {
    if (input.kind === 'listing') return loadInput(input);
    const { paths, namespace, skipInvalid, workloadNames } = input;
    const { sources, errors, skipped } = readSources(paths, { cache: this.cache });
    if (errors.length > 0) throw new InputError(errors);
    // Taken before the build adds the files that hold no object to it.
    const key = JSON.stringify([input, skipped.warnings()]);
    const options: StepOptions = { namespace, skipInvalid, workloadNames, parse: (s) => this.cache.parse(s) };
    const snapshot =
      (this.last?.key === key ? policyStep(this.last, sources, options) : undefined) ??
      buildSnapshot(sources, { ...options, skipped, requireObjectsFrom: paths });
    this.last = { key, sources, snapshot };
    return snapshot;
  }
}

/**
 * The last snapshot with the NetworkPolicies the changed files now hold, when every file that changed,
 * appeared or went away held policies alone and loads clean, before and after, and the policies leave
 * the namespaces as they were; else undefined.
 */
function policyStep(
  last: Loaded,
  sources: readonly SourceText[],
  options: StepOptions,
): Snapshot | undefined {
  const before = new Map(last.sources.map((s) => [s.path, s]));
  const paths = new Set(sources.map((s) => s.path));
  if (before.size !== last.sources.length || paths.size !== sources.length) return undefined;
  // The warning about skipped kinds names the file when there is one.
  if (sources.length !== last.sources.length && last.snapshot.skippedKinds.size > 0) return undefined;
  const changed = sources.filter((s) => before.get(s.path) !== s);
  const changedPaths = new Set(changed.map((s) => s.path));
  const gone = last.sources.filter((s) => !paths.has(s.path) || changedPaths.has(s.path));
  const byFile = new Map<string, NetworkPolicy[]>();
  for (const policy of last.snapshot.policies) {
    const list = byFile.get(policy.provenance.file);
    if (list) list.push(policy);
    else byFile.set(policy.provenance.file, [policy]);
  }
  const removed: NetworkPolicy[] = [];
  for (const source of gone) {
    const policies = policiesOf(source, options);
    // The whole input kept what the file alone gives, unless --skip-invalid left a duplicate out.
    if (!policies || policies.length !== byFile.get(source.path)?.length) return undefined;
    removed.push(...policies);
  }
  const read = new Map<string, NetworkPolicy[]>();
  for (const source of changed) {
    const policies = policiesOf(source, options);
    if (!policies) return undefined;
    read.set(source.path, policies);
  }
  const policies = sources.flatMap((s) => read.get(s.path) ?? byFile.get(s.path) ?? []);
  const { namespaces } = last.snapshot;
  const added = [...read.values()].flat();
  // A namespace only policies named is implied by them: it must neither appear nor go away.
  const named = new Set(policies.map((p) => p.namespace));
  if (
    new Set(policies.map((p) => `${p.namespace}/${p.name}`)).size !== policies.length ||
    !added.every((p) => namespaces.has(p.namespace)) ||
    !removed.every((p) => namespaces.get(p.namespace)?.declared || named.has(p.namespace))
  )
    return undefined;
  return withPolicies(last.snapshot, policies, sources);
}

/**
 * The NetworkPolicies of a file that holds nothing else and loads, alone, without a problem; undefined
 * for any other file (its change is loaded whole, which reports what there is to report).
 */
function policiesOf(source: SourceText, options: StepOptions): NetworkPolicy[] | undefined {
  const { documents, errors } = options.parse(source);
  const isPolicy = (value: unknown) =>
    isFields(value) && value.kind === 'NetworkPolicy' && value.apiVersion === 'networking.k8s.io/v1';
  if (errors.length > 0 || !documents.every((d) => d.value == null || isPolicy(d.value))) return undefined;
  try {
    const snapshot = buildSnapshot([source], { ...options, skipInvalid: false });
    return snapshot.warnings.length === 0 && snapshot.policies.length > 0
      ? [...snapshot.policies]
      : undefined;
  } catch (error) {
    if (error instanceof InputError) return undefined;
    throw error;
  }
}
