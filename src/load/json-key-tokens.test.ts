import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { countKeyTokens, firstRepeatedKey } from './json-key-tokens.ts';

/** Keys of a parsed value, by recursion: the plain definition countKeyTokens must agree with. */
function keysIn(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, item) => n + keysIn(item), 0);
  if (typeof value !== 'object' || value === null) return 0;
  return Object.entries(value).reduce((n, [, child]) => n + 1 + keysIn(child), 0);
}

test('countKeyTokens counts the keys of any JSON text, however it is spaced', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.constantFrom(undefined, 0, 2, '\t'), (value, indent) => {
      const text = JSON.stringify(value, null, indent);
      assert.equal(countKeyTokens(text), keysIn(JSON.parse(text)));
    }),
    { numRuns: 500 },
  );
  // Spaces and newlines between a key and its colon are legal JSON.
  assert.equal(countKeyTokens('{"a" :1, "b"\n:\t{"c"\r\n: "d:\\"e"}}'), 3);
});

test('firstRepeatedKey finds the key that repeats one of its own object, and nothing in texts without one', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }),
      fc.constantFrom(undefined, 2),
      (object, indent) => {
        const objectText = JSON.stringify(object, null, indent);
        const prefix = `{"wrapper": [${objectText}, {"inner": `;
        assert.equal(firstRepeatedKey(`${prefix}${objectText}}]}`), undefined);
        // The first key written again at the end of the second copy, a letter escaped: still the same key.
        const key = Object.keys(object)[0] as string;
        const spelled = JSON.stringify(key).replace(/[a-z]/, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
        const repeated = `${prefix}${objectText.slice(0, -1)},${spelled}:null}}]}`;
        assert.equal(firstRepeatedKey(repeated), prefix.length + objectText.length, repeated);
      },
    ),
    { numRuns: 300 },
  );
});
