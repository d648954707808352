import type { Check } from '../types.ts';

export const platformAndHygieneChecks: readonly Check[] = [];
