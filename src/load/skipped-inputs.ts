import type { Diagnostic } from './diagnostics.ts';

/** How many paths a summary names before it says "and N more". */
const NAMED = 3;

/**
 * What a folder walk left out and why, so that one warning can say it: a repository holds charts,
 * CI workflows and package.json beside its manifests, and none of them may pass unmentioned.
 */
export class SkippedInputs {
  private readonly files = new Map<string, string[]>();
  private readonly folders: { path: string; what: string; render: string }[] = [];

  file(path: string, reason: string): void {
    const paths = this.files.get(reason);
    if (paths) paths.push(path);
    else this.files.set(reason, [path]);
  }

  /** A folder left out whole because it is `what` (a Helm chart), and the command that renders it. */
  folder(path: string, what: string, render: string): void {
    this.folders.push({ path, what, render });
  }

  get fileCount(): number {
    let count = 0;
    for (const paths of this.files.values()) count += paths.length;
    return count;
  }

  warnings(): Diagnostic[] {
    const folders: Diagnostic[] = this.folders.map(({ path, what, render }) => ({
      severity: 'warning',
      file: path,
      message: `skipped: this folder is ${what}; render it and pipe it in: ${render}`,
    }));
    const count = this.fileCount;
    if (count === 0) return folders;
    const first = [...this.files.values()][0]?.[0] ?? '<input>';
    return [
      ...folders,
      {
        severity: 'warning',
        file: count === 1 ? first : '<input>',
        message: `skipped ${count} path${count === 1 ? '' : 's'} that are not Kubernetes manifests: ${this.summary()}`,
      },
    ];
  }

  /** `Helm values ×2 (a/values.yaml, b/values.yaml); CI workflow ×1 (…)`, or '' when nothing was skipped. */
  summary(): string {
    return [...this.files]
      .map(([reason, paths]) => {
        const named = paths.slice(0, NAMED).join(', ');
        const more = paths.length > NAMED ? `, and ${paths.length - NAMED} more` : '';
        return `${reason} ×${paths.length} (${named}${more})`;
      })
      .join('; ');
  }

  /** The folder hints and file summary, in one sentence for the "nothing found" error. */
  describe(): string {
    const parts = this.folders.map((f) => `${f.path} is ${f.what}: render it and pipe it in: ${f.render}`);
    if (this.fileCount > 0) parts.push(`skipped ${this.summary()}`);
    return parts.join('; ');
  }
}
