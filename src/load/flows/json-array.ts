/** Records larger than this are reported, not parsed: no flow record comes near it. */
export const MAX_RECORD_CHARS = 1 << 20;

export type ArrayItem = { text: string; line: number } | { problem: string; line: number };

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d || code === 0xfeff;
}

/**
 * Splits a JSON array (`[ {...}, {...} ]`, laid out any way) into the text of its elements, line by line,
 * so that an array file is read with the memory of one element, not of the file. Only brackets and
 * strings are tracked; each element is then parsed on its own, so a broken element costs that element.
 */
export class JsonArraySplitter {
  /** 0 before the `[`, 1 inside the array, more inside an element; -1 after the closing `]`. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  private element: string[] | undefined;
  private elementChars = 0;
  private elementLine = 0;
  private trailingReported = false;

  feed(line: string, lineNo: number): ArrayItem[] {
    const items: ArrayItem[] = [];
    let from = 0;
    for (let i = 0; i < line.length; i++) {
      const code = line.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (code === BACKSLASH) this.escaped = true;
        else if (code === QUOTE) this.inString = false;
        continue;
      }
      if (this.depth === -1) {
        if (!isSpace(code) && !this.trailingReported) {
          this.trailingReported = true;
          items.push({ problem: 'text after the end of the JSON array', line: lineNo });
        }
        continue;
      }
      if (this.depth === 0) {
        if (code === OPEN_BRACKET) this.depth = 1;
        else if (!isSpace(code) && !this.trailingReported) {
          this.trailingReported = true;
          items.push({ problem: 'expected a JSON array', line: lineNo });
        }
        continue;
      }
      if (this.element === undefined) {
        // Between elements, at depth 1.
        if (isSpace(code) || code === COMMA) continue;
        if (code === CLOSE_BRACKET) {
          this.depth = -1;
          continue;
        }
        this.element = [];
        this.elementChars = 0;
        this.elementLine = lineNo;
        from = i;
      }
      if (code === QUOTE) this.inString = true;
      else if (code === OPEN_BRACE || code === OPEN_BRACKET) this.depth++;
      else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && this.depth > 1) this.depth--;
      else if (this.depth === 1 && (code === COMMA || code === CLOSE_BRACKET)) {
        this.append(line.slice(from, i));
        items.push(this.finish());
        if (code === CLOSE_BRACKET) this.depth = -1;
      }
    }
    if (this.element !== undefined) this.append(`${line.slice(from)}\n`);
    return items;
  }

  /** What is left when the input ends: a truncated element or an unclosed array. */
  end(lineNo: number): ArrayItem[] {
    if (this.element !== undefined) {
      const line = this.elementLine;
      this.element = undefined;
      return [{ problem: 'truncated record: the JSON array is not closed', line }];
    }
    if (this.depth > 0) return [{ problem: 'the JSON array is not closed', line: lineNo }];
    return [];
  }

  private append(part: string): void {
    if (this.element === undefined) return;
    this.elementChars += part.length;
    if (this.elementChars <= MAX_RECORD_CHARS) this.element.push(part);
  }

  private finish(): ArrayItem {
    const parts = this.element ?? [];
    const line = this.elementLine;
    const tooLarge = this.elementChars > MAX_RECORD_CHARS;
    this.element = undefined;
    if (tooLarge) return { problem: `record larger than ${MAX_RECORD_CHARS >> 20} MiB`, line };
    return { text: parts.join(''), line };
  }
}
