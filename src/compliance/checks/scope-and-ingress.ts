import type { Check } from '../types.ts';

export const scopeAndIngressChecks: readonly Check[] = [];
