import type { Check } from '../types.ts';
import { exposureChecks } from './exposure.ts';
import { guardrailChecks } from './guardrails.ts';
import { platformAndHygieneChecks } from './platform-and-hygiene.ts';
import { scopeAndIngressChecks } from './scope-and-ingress.ts';

/** Every implemented check of the catalogue; the audit marks the rest not-assessable, visibly. */
export const CHECKS: readonly Check[] = [
  ...scopeAndIngressChecks,
  ...exposureChecks,
  ...platformAndHygieneChecks,
  ...guardrailChecks,
];
