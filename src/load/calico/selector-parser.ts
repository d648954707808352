import type { CalicoSelector, SelectorExpr } from '../../model/calico-selector.ts';

/** A selector that does not parse: `offset` is the 0-based character where the problem is. */
export class SelectorSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'SelectorSyntaxError';
  }
}

/** Calico's label key characters (libcalico-go's selector tokenizer). */
const LABEL = /[a-zA-Z0-9_./-]+/y;
const SPACE = /\s*/y;
const COMPARISONS = ['==', '!=', 'contains', 'starts with', 'ends with'] as const;

/**
 * Parses Calico's selector language: `all()`, `global()`, `has(k)`, `k == "v"`, `k != "v"`,
 * `k in {...}`, `k not in {...}`, `k contains/starts with/ends with "s"`, `!`, `&&`, `||` and
 * parentheses, `&&` binding tighter than `||`. The empty selector is `all()`, as Calico reads it.
 */
export function parseCalicoSelector(source: string): CalicoSelector {
  const parser = new Parser(source);
  parser.skipSpace();
  if (parser.atEnd()) return { source, expr: { op: 'all' } };
  const expr = parser.or();
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail(`unexpected ${parser.describeNext()}: expected "&&", "||" or the end`);
  return { source, expr };
}

class Parser {
  private at = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.at >= this.text.length;
  }

  skipSpace(): void {
    SPACE.lastIndex = this.at;
    SPACE.exec(this.text);
    this.at = SPACE.lastIndex;
  }

  fail(message: string, offset = this.at): never {
    throw new SelectorSyntaxError(message, offset);
  }

  describeNext(): string {
    if (this.atEnd()) return 'end of selector';
    return `"${this.text.slice(this.at, this.at + 12).split(/\s/)[0] || this.text[this.at]}"`;
  }

  /** Consumes `word` (after spaces) if it is next; words made of letters must end there. */
  private eat(word: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(word, this.at)) return false;
    const after = this.text[this.at + word.length];
    if (/^[a-z]/.test(word) && after !== undefined && /[a-zA-Z0-9_./-]/.test(after)) return false;
    this.at += word.length;
    return true;
  }

  or(): SelectorExpr {
    let left = this.and();
    while (this.eat('||')) left = { op: '||', left, right: this.and() };
    return left;
  }

  private and(): SelectorExpr {
    let left = this.unary();
    while (this.eat('&&')) left = { op: '&&', left, right: this.unary() };
    return left;
  }

  private unary(): SelectorExpr {
    this.skipSpace();
    // `!=` is an operator, never a negation in front of a term.
    if (this.text[this.at] === '!' && this.text[this.at + 1] !== '=') {
      this.at++;
      return { op: '!', expr: this.unary() };
    }
    return this.term();
  }

  private term(): SelectorExpr {
    this.skipSpace();
    const start = this.at;
    if (this.eat('(')) {
      const inner = this.or();
      if (!this.eat(')'))
        this.fail(
          `unexpected ${this.describeNext()}: expected ")" to close the "(" at character ${start + 1}`,
        );
      return inner;
    }
    // `all`, `global` and `has` are functions only when a "(" follows; otherwise they are label keys.
    const call = /(all|global|has)\s*\(/y;
    call.lastIndex = this.at;
    const name = call.exec(this.text)?.[1];
    if (name) this.at = call.lastIndex;
    if (name === 'all' || name === 'global') {
      this.expect(')', `: ${name}() takes no argument`);
      return { op: name };
    }
    if (name === 'has') {
      const key = this.label('has(...)');
      this.expect(')', `after the label in has(${key}`);
      return { op: 'has', key };
    }
    if (this.atEnd())
      this.fail('unexpected end of selector: expected a label, has(), all(), global(), "!" or "("');
    const key = this.label('a selector term');
    for (const op of COMPARISONS) {
      if (this.eatWords(op)) return { op, key, value: this.string(op) };
    }
    if (this.eat('in')) return { op: 'in', key, values: this.set() };
    if (this.eatWords('not in')) return { op: 'not in', key, values: this.set() };
    this.skipSpace();
    return this.fail(
      `unexpected ${this.describeNext()} after label "${key}": expected ==, !=, in, not in, contains, starts with or ends with`,
    );
  }

  /** A multi-word operator such as `starts with`: the words may be separated by any whitespace. */
  private eatWords(op: string): boolean {
    const before = this.at;
    for (const word of op.split(' ')) {
      if (!this.eat(word)) {
        this.at = before;
        return false;
      }
    }
    return true;
  }

  private expect(token: string, context: string): void {
    if (!this.eat(token)) {
      this.skipSpace();
      this.fail(`unexpected ${this.describeNext()}: expected "${token}" ${context}`);
    }
  }

  private label(context: string): string {
    this.skipSpace();
    LABEL.lastIndex = this.at;
    const match = LABEL.exec(this.text);
    if (!match) this.fail(`unexpected ${this.describeNext()}: expected a label key in ${context}`);
    this.at = LABEL.lastIndex;
    return match[0];
  }

  private string(after: string): string {
    this.skipSpace();
    const quote = this.text[this.at];
    if (quote !== '"' && quote !== "'") {
      this.fail(
        `unexpected ${this.describeNext()} after "${after}": expected a quoted string ("..." or '...')`,
      );
    }
    const end = this.text.indexOf(quote, this.at + 1);
    if (end < 0) this.fail(`unterminated string: no closing ${quote}`);
    const value = this.text.slice(this.at + 1, end);
    this.at = end + 1;
    return value;
  }

  private set(): string[] {
    this.expect('{', 'to open the set of values');
    const values: string[] = [];
    if (this.eat('}')) return values;
    do values.push(this.string(values.length === 0 ? '{' : ','));
    while (this.eat(','));
    this.expect('}', 'or "," in the set of values');
    return values;
  }
}
