/** The API server's name and label syntax (k8s.io/apimachinery/pkg/util/validation). */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function dnsLabelProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!DNS_LABEL.test(value))
    return 'must be a lowercase RFC 1123 label (a-z, 0-9 and -, alphanumeric at both ends)';
  return undefined;
}

export function dnsSubdomainProblem(value: string): string | undefined {
  if (value.length > 253) return 'must be no more than 253 characters';
  if (!DNS_SUBDOMAIN.test(value)) return 'must be a lowercase RFC 1123 subdomain (a-z, 0-9, - and .)';
  return undefined;
}

/** A label or annotation key: an optional DNS subdomain prefix and `/`, then a name of at most 63 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'a label key may contain at most one "/"';
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0] ?? ''];
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'a label key prefix must not be empty';
    const problem = dnsSubdomainProblem(prefix);
    if (problem) return `the prefix ${problem}`;
  }
  if (!name) return 'a label key name must not be empty';
  if (name.length > 63) return 'a label key name must be no more than 63 characters';
  if (!QUALIFIED_NAME_PART.test(name)) {
    return 'a label key name must consist of alphanumerics, "-", "_" or "." and start and end with an alphanumeric';
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'a label value must be no more than 63 characters';
  if (!LABEL_VALUE.test(value)) {
    return 'a label value must be empty or consist of alphanumerics, "-", "_" or "." and start and end with an alphanumeric';
  }
  return undefined;
}

/** IANA_SVC_NAME: what a named port must look like. */
export function portNameProblem(name: string): string | undefined {
  if (name.length > 15) return 'a port name must be no more than 15 characters';
  if (!PORT_NAME.test(name) || name.includes('--')) {
    return 'a port name must be lowercase alphanumerics and "-", start and end with an alphanumeric, without "--"';
  }
  if (!/[a-z]/.test(name)) return 'a port name must contain at least one letter';
  return undefined;
}
