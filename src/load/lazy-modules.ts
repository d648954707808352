import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Heavy parsers load on first use: together they cost more than a hundred milliseconds of start-up,
 * which `phiwall --version`, and every run on JSON input, never needs.
 */
export const yaml = (): typeof import('yaml') => require('yaml');
export const zod = (): typeof import('zod') => require('zod');
