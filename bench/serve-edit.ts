/**
 * How long `phiwall serve` takes from a policy file's edit to the change event (issue 20's target:
 * within 1 s at M), in the GitOps shape: the generated cluster without its NetworkPolicies as one JSON
 * file, and every NetworkPolicy as a YAML file of its own under `policies/<namespace>/`.
 *
 *   npx tsx bench/generate.ts --size M --out bench/.data   # once
 *   npx tsx bench/serve-edit.ts [--size M] [--edits 6] [--edit policy|cluster]
 *
 * Serves the split through the library (`startServe`, file watch and analysis worker as the command
 * runs them), then edits one policy file back and forth, removing and restoring an egress rule, and
 * prints each edit's time from the write to the change event, which comes once the new graph is
 * published, with the load average. `--edit cluster` edits the cluster file instead (a pod's labels):
 * the change that is not a policy's.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { type ServeEvent, startServe } from '../src/server/index.ts';
import { DATA, median } from './child.ts';
import { dataFiles, type Size } from './generate.ts';

interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { egress?: unknown[] };
}

/** Writes the split once per generated cluster; returns its folder. */
function split(size: Size): string {
  const { cluster } = dataFiles(DATA, size);
  if (!existsSync(cluster))
    throw new Error(`${cluster} is missing: run bench/generate.ts --size ${size} first`);
  const dir = join(DATA, `serve-${size}`);
  const stamp = `${statSync(cluster).mtimeMs}`;
  const stampFile = join(dir, '.from');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return dir;
  rmSync(dir, { recursive: true, force: true });
  const list = JSON.parse(readFileSync(cluster, 'utf8')) as { items: KubeObject[] };
  const policies = list.items.filter((o) => o.kind === 'NetworkPolicy');
  const rest = list.items.filter((o) => o.kind !== 'NetworkPolicy');
  mkdirSync(join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ ...list, items: rest }));
  for (const policy of policies) {
    const folder = join(dir, 'policies', policy.metadata.namespace ?? 'default');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${policy.metadata.name}.yaml`), stringify(policy));
  }
  // One in the middle of the input with egress rules: dropping one removes the edge it allows.
  const withEgress = policies.filter((p) => (p.spec?.egress?.length ?? 0) > 1);
  const edited = withEgress[Math.floor(withEgress.length / 2)];
  if (!edited) throw new Error(`${cluster} has no NetworkPolicy with egress rules`);
  writeFileSync(
    join(dir, '.edit'),
    join(dir, 'policies', edited.metadata.namespace ?? 'default', `${edited.metadata.name}.yaml`),
  );
  writeFileSync(stampFile, stamp);
  return dir;
}

/** The policy file the edits change, and its two versions: without its last egress rule, and as written. */
function editedPolicy(dir: string): { file: string; versions: [string, string] } {
  const file = readFileSync(join(dir, '.edit'), 'utf8');
  const text = readFileSync(file, 'utf8');
  const policy = parse(text) as KubeObject;
  policy.spec?.egress?.pop();
  return { file, versions: [stringify(policy), text] };
}

/**
 * The cluster file and its two versions: one pod with a label more, and as written. Not a policy
 * change: the step reads the whole input again (only the changed file is parsed) and analyses it anew.
 */
function editedCluster(dir: string): { file: string; versions: [string, string] } {
  const file = join(dir, 'cluster.json');
  const text = readFileSync(file, 'utf8');
  const list = JSON.parse(text) as { items: (KubeObject & { metadata: { labels?: object } })[] };
  const pod = list.items.find((o) => o.kind === 'Pod');
  if (!pod) throw new Error(`${file} has no Pod`);
  pod.metadata.labels = { ...pod.metadata.labels, 'bench.phiwall.dev/edited': 'true' };
  return { file, versions: [JSON.stringify(list), text] };
}

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'M' },
    edits: { type: 'string', default: '6' },
    edit: { type: 'string', default: 'policy' },
  },
});
if (values.edit !== 'policy' && values.edit !== 'cluster')
  throw new Error(`--edit must be policy or cluster, not "${values.edit}"`);
const dir = split(values.size as Size);
const { file, versions } = values.edit === 'cluster' ? editedCluster(dir) : editedPolicy(dir);
const started = performance.now();
const served = await startServe({ paths: [join(dir, 'cluster.json'), join(dir, 'policies')], port: 0 });
process.stdout.write(`served ${dir} in ${Math.round(performance.now() - started)} ms; editing ${file}\n`);
const times: number[] = [];
try {
  for (let i = 0; i < Number(values.edits); i++) {
    const event = new Promise<ServeEvent>((resolve) => {
      const stop = served.state.subscribe((e) => {
        stop();
        resolve(e);
      });
    });
    const load = loadavg()[0]?.toFixed(2);
    const t0 = performance.now();
    writeFileSync(file, versions[i % 2] as string);
    const e = await event;
    const ms = Math.round(performance.now() - t0);
    times.push(ms);
    const what =
      e.type === 'change'
        ? `${e.data.added.length}+ ${e.data.removed.length}- ${e.data.changed.length}~ edges`
        : e.data.message;
    process.stdout.write(`edit ${i + 1}: ${ms} ms to the ${e.type} event (${what}; load ${load})\n`);
  }
} finally {
  writeFileSync(file, versions[1]);
  await served.close();
}
process.stdout.write(
  `median ${median(times)} ms over ${times.length} edits; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);
