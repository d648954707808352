/** A problem found in the input, positioned so that a person can go straight to it. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  line?: number;
  column?: number;
  /** Field path inside the object, e.g. `spec.ingress[0].from[1].ipBlock.cidr`. */
  field?: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = [d.file, d.line, d.column].filter((part) => part !== undefined).join(':');
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  return `${where}: ${prefix}${d.field ? `${d.field}: ` : ''}${d.message}`;
}

/** Thrown when the input cannot be analysed; carries every error found, not only the first. */
export class InputError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'InputError';
  }
}

/** Renders a field path the way kubectl does: `spec.ingress[0].from`. */
export function fieldPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}
