import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import type { FlowEdge, MappedFlows } from '../analysis/flows.ts';
import {
  type Generation,
  generatePolicies,
  type Proof,
  proveGeneration,
  withGeneratedPolicies,
} from '../analysis/generate.ts';
import { allowedByName } from '../analysis/generate-cilium.ts';
import { type AuditConfig, CONFIG_FILE, externalGrouping, loadAuditConfig } from '../compliance/config.ts';
import { phiScope } from '../compliance/phi-scope.ts';
import type { EngineOptions } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import { formatDiagnostic } from '../load/diagnostics.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { Snapshot } from '../model/types.ts';
import {
  type PolicyFlavor,
  proofJson,
  proofSummary,
  renderNamespaceBody,
  renderNamespaceFile,
  renderProofText,
} from '../report/generated-policies.ts';
import { VERSION } from '../version.ts';
import { readFlows, splitFlowArguments } from './flow-inputs.ts';
import { type CliIo, ExitCode, noteInput, UsageError, writeOutputFile } from './io.ts';
import { engineOptionsOf, loadInputs, withInputOptions } from './shared-options.ts';

export interface GenerateSettings {
  engineOptions: EngineOptions;
  config: AuditConfig;
  includeDropped?: boolean;
  keepExisting?: boolean;
  flowFiles: readonly string[];
  /** Where each namespace's file goes (`<dir>/<ns>.yaml`); also the provenance the proof reports. */
  fileOf: (namespace: string) => string;
  generatedAt?: Date;
  /** Write the policies as Kubernetes NetworkPolicies (default), Calico NetworkPolicies or CiliumNetworkPolicies. */
  flavor?: PolicyFlavor;
}

export interface GenerateRun {
  generation: Generation;
  proof: Proof;
  files: { namespace: string; path: string; text: string }[];
  /** Generation warnings, and anything the loader said about the generated YAML (a bug if so). */
  warnings: string[];
}

/**
 * Generates the policies, loads the rendered YAML back (so the proof checks what is written, not the
 * generator's intent), puts them in place of the input's NetworkPolicies in the generated namespaces
 * (added to them with `keepExisting`) and proves the result on a fresh engine.
 */
export function runGenerate(
  snapshot: Snapshot,
  edges: readonly FlowEdge[],
  settings: GenerateSettings,
): GenerateRun {
  const engine = new Engine(snapshot, settings.engineOptions);
  const generation = generatePolicies(engine, edges, {
    excludedNamespaces: settings.config.excludedNamespaces,
    includeDropped: settings.includeDropped,
    grouping: externalGrouping(settings.config),
    cilium: settings.flavor === 'cilium',
  });
  const bodies = generation.namespaces.map((ns) => ({
    path: settings.fileOf(ns.namespace),
    text: renderNamespaceBody(ns, settings.flavor),
  }));
  const loaded = buildSnapshot(bodies);
  const warnings = [
    ...generation.warnings,
    ...loaded.warnings.map((d) => `generated YAML: ${formatDiagnostic(d)}`),
  ];
  const proofSnapshot = withGeneratedPolicies(
    snapshot,
    loaded.policies,
    new Set(generation.namespaces.map((ns) => ns.namespace)),
    settings.keepExisting,
    loaded.calico?.policies,
    loaded.ciliumPolicies,
  );
  const phi = new Set(phiScope(snapshot, settings.config).phi.keys());
  const proof = proveGeneration(
    new Engine(proofSnapshot, settings.engineOptions),
    generation.edges,
    phi,
    generation.unitOf,
    generation.widened,
    (pod, edge, direction) => allowedByName(proofSnapshot, loaded.ciliumPolicies, pod, edge, direction),
  );
  const facts = {
    version: VERSION,
    generatedAt: settings.generatedAt ?? new Date(),
    flowFiles: settings.flowFiles,
    includeDropped: settings.includeDropped === true,
    keepExisting: settings.keepExisting === true,
    proofSummary: proofSummary(proof),
  };
  const files = generation.namespaces.map((ns) => ({
    namespace: ns.namespace,
    path: settings.fileOf(ns.namespace),
    text: renderNamespaceFile(ns, facts, settings.flavor),
  }));
  return { generation, proof, files, warnings };
}

function unmappedWarning(mapped: MappedFlows): string | undefined {
  if (mapped.unmapped.count === 0) return undefined;
  const reasons = Object.entries(mapped.unmapped.reasons)
    .sort(([, a], [, b]) => b.count - a.count)
    .map(([reason, { count, example }]) => `${reason} ×${count} (first at ${example.file}:${example.line})`);
  return `${mapped.unmapped.count} observed flow(s) could not be matched to the input's workloads and were left out: ${reasons.join('; ')}`;
}

export function generateCommand(io: CliIo) {
  return withInputOptions(
    new Command('generate').argument('[paths...]', 'manifest files or folders, or - for stdin'),
  )
    .description(
      'Generate NetworkPolicies that allow exactly the observed traffic (default-deny, cluster DNS, one policy per workload), and prove them with the engine',
    )
    .option(
      '--from-flows <files...>',
      'flow logs (Hubble JSON, Calico flow logs, phiwall CSV) to generate from; manifests may follow them',
    )
    .option(
      '-o, --output <dir>',
      'write one <namespace>.yaml per namespace there, instead of all YAML to stdout',
    )
    .option(
      '-c, --config <file>',
      `audit configuration: PHI workloads, excluded namespaces (default: ./${CONFIG_FILE})`,
    )
    .option(
      '--include-dropped',
      'also allow observed flows that were dropped (left out by default: a drop may be an attack)',
    )
    .option(
      '--keep-existing',
      "prove the generated policies added to the input's NetworkPolicies (as kubectl apply leaves them) instead of replacing them",
    )
    .addOption(
      new Option(
        '--flavor <kind>',
        'write Kubernetes NetworkPolicies, Calico NetworkPolicies or CiliumNetworkPolicies (toFQDNs for destinations Hubble names, entities for Cilium identities)',
      )
        .choices(['kubernetes', 'calico', 'cilium'] as const)
        .default('kubernetes' as const),
    )
    .addOption(
      new Option('-f, --format <format>', 'format of the proof (json needs -o)')
        .choices(['text', 'json'] as const)
        .default('text' as const),
    )
    .addHelpText(
      'after',
      `
Policies: per namespace (except the config's excludedNamespaces: kube-system, kube-public, kube-node-lease by default) a default-deny,
an allow-dns to cluster DNS, and per workload with observed traffic a <workload>-observed policy selecting
its stable labels, with a rule per observed peer and its observed ports. The proof loads them back, puts
them in place of the input's NetworkPolicies, and checks that every observed flow is allowed and that
nothing unobserved reaches a PHI workload. Without -o the proof goes to stderr.

Exit status: 1 when the proof fails, 0 otherwise, 2 on bad input.

Examples:
  hubble observe --since 24h -o json > flows.json
  phiwall generate --from-flows flows.json k8s/ -o generated/
  phiwall generate --from-flows flows.csv --live --context prod > policies.yaml`,
    )
    .action(async (paths, options, command) => {
      if (!options.fromFlows) {
        throw new UsageError('generate needs --from-flows FLOWFILE...: the observed traffic to allow');
      }
      const args = [...options.fromFlows, ...paths];
      const { flowFiles, paths: manifests } = splitFlowArguments(args);
      if (flowFiles.length === 0) {
        throw new UsageError(
          `no flow log among ${args.join(' ')}: give a Hubble, Calico or phiwall CSV flow file`,
        );
      }
      if (options.format === 'json' && !options.output) {
        throw new UsageError('--format json describes the proof, and stdout holds the policies: add -o DIR');
      }
      const { config, source } = loadAuditConfig(options.config);
      if (source) noteInput(io, source.path);
      const snapshot = await loadInputs(manifests, options, io);
      const engineOptions = engineOptionsOf(command, snapshot, io);
      const { mapped, stats } = await readFlows(
        flowFiles,
        new Engine(snapshot, engineOptions),
        io,
        options.maxInputBytes,
      );
      for (const read of stats) {
        const reasons = Object.entries(read.ignored);
        if (reasons.length === 0) continue;
        const count = reasons.reduce((n, [, k]) => n + k, 0);
        const list = reasons.map(([reason, k]) => `${reason} ×${k}`).join('; ');
        io.stderr(`phiwall: ${read.file}: ${count} record(s) not used: ${list}\n`);
      }
      const unmapped = unmappedWarning(mapped);
      if (unmapped) io.stderr(`phiwall: warning: ${unmapped}\n`);
      if (mapped.edges.length === 0) {
        // Policies from no traffic would isolate every workload: more likely the wrong files or cluster.
        throw new UsageError(
          `no observed flow in ${flowFiles.join(', ')} matches a workload of the input: nothing to generate from`,
        );
      }
      const dir = options.output;
      const run = runGenerate(snapshot, mapped.edges, {
        engineOptions,
        config,
        includeDropped: options.includeDropped,
        keepExisting: options.keepExisting,
        flavor: options.flavor,
        flowFiles,
        fileOf: (namespace) => (dir ? join(dir, `${namespace}.yaml`) : `${namespace}.yaml`),
      });
      for (const warning of run.warnings) io.stderr(`phiwall: warning: ${warning}\n`);
      if (dir) {
        mkdirSync(dir, { recursive: true });
        for (const file of run.files) writeOutputFile(io, file.path, file.text);
        const paths = run.files.map((f) => f.path);
        io.stdout(
          options.format === 'json'
            ? `${JSON.stringify(proofJson(run.generation, run.proof, paths), null, 2)}\n`
            : renderProofText(run.generation, run.proof, paths),
        );
      } else {
        io.stdout(run.files.map((f) => f.text).join(''));
        io.stderr(renderProofText(run.generation, run.proof));
      }
      if (!run.proof.ok) throw new ExitCode(1);
    });
}
