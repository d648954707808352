import type { Check } from '../types.ts';

export const exposureChecks: readonly Check[] = [];
