import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calicoMatches } from '../../model/calico-selector.ts';
import { parseCalicoSelector, SelectorSyntaxError } from './selector-parser.ts';

function matches(selector: string, labels: Record<string, string>, global = false): boolean {
  return calicoMatches(parseCalicoSelector(selector).expr, labels, global);
}

test('each operator matches as Calico documents it', () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['app == "web"', { app: 'web' }, true],
    ["app == 'web'", { app: 'db' }, false],
    ['app == "web"', {}, false],
    ['app != "web"', { app: 'db' }, true],
    ['app != "web"', {}, true],
    ['app != "web"', { app: 'web' }, false],
    ['app in {"a", "b"}', { app: 'b' }, true],
    ['app in {"a", "b"}', {}, false],
    ['app in {}', { app: 'a' }, false],
    ['app not in {"a","b"}', { app: 'c' }, true],
    ['app not in {"a","b"}', {}, true],
    ['app not in {"a","b"}', { app: 'a' }, false],
    ['has(app)', { app: '' }, true],
    ['has(app)', {}, false],
    ['!has(app)', {}, true],
    ['!has(app)', { app: 'x' }, false],
    ['all()', {}, true],
    ['', {}, true],
    ['global()', { a: 'b' }, false],
    ['name starts with "pay"', { name: 'payments' }, true],
    ['name starts with "pay"', { name: 'repay' }, false],
    ['name ends with "ments"', { name: 'payments' }, true],
    ['name ends with "ments"', {}, false],
    ['name contains "ym"', { name: 'payments' }, true],
    ['name contains "ym"', { name: 'pay' }, false],
    ['a == "1" && b == "2"', { a: '1', b: '2' }, true],
    ['a == "1" && b == "2"', { a: '1' }, false],
    ['a == "1" || b == "2"', { b: '2' }, true],
    ['a == "1" || b == "2" && c == "3"', { b: '2' }, false],
    ['(a == "1" || b == "2") && c == "3"', { b: '2', c: '3' }, true],
    ['!(a == "1")', { a: '2' }, true],
    ['!(a == "1" || b == "2")', { b: '2' }, false],
    ['projectcalico.org/name == "x"', { 'projectcalico.org/name': 'x' }, true],
    ['all == "x"', { all: 'x' }, true],
    ['has ( tier )', { tier: 'a' }, true],
  ];
  assert.ok(cases.length > 0);
  for (const [selector, labels, expected] of cases) {
    assert.equal(matches(selector, labels), expected, `${selector} on ${JSON.stringify(labels)}`);
  }
  assert.equal(matches('global()', {}, true), true);
  assert.equal(matches('all()', {}, true), true);
});

test('syntax errors name the character where they are', () => {
  const cases: [string, number, RegExp][] = [
    ['app = "web"', 4, /after label "app"/],
    ['app == web', 7, /quoted string/],
    ['app == "web', 7, /unterminated string/],
    ['(a == "1"', 9, /expected "\)"/],
    ['a == "1" &&', 11, /end of selector/],
    ['a == "1" b == "2"', 9, /expected "&&", "\|\|" or the end/],
    ['has(a', 5, /expected "\)"/],
    ['all(x)', 4, /takes no argument/],
    ['a in {"x" "y"}', 10, /expected "}"/],
  ];
  for (const [selector, offset, message] of cases) {
    assert.throws(
      () => parseCalicoSelector(selector),
      (error: unknown) =>
        error instanceof SelectorSyntaxError && error.offset === offset && message.test(error.message),
      selector,
    );
  }
});
