import { ConfigError } from '../errors.js';

/** What `--exec` may name; each is replaced by the delivered file's value. */
export const PLACEHOLDERS = ['path', 'domain', 'token', 'sha256', 'destination', 'group', 'size'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

type Part = { literal: string } | { placeholder: Placeholder };

/**
 * A command line such as `convert {path} --out 'thumbs/{token}.png'`, split into words once, at
 * start, the way a shell splits (whitespace; '…' literal; "…" with \" and \\; \x outside quotes).
 * Rendering substitutes placeholders *inside* the words: a value is never split again nor read by
 * a shell, so a file named `a b; rm -rf ~` stays one argument. There is no `sh -c`.
 */
export class CommandTemplate {
  private constructor(
    private readonly program: readonly Part[],
    private readonly args: readonly (readonly Part[])[],
  ) {}

  static parse(template: string): CommandTemplate {
    const [program, ...args] = splitWords(template).map(parsePlaceholders);
    if (program === undefined) throw new ConfigError('--exec: the command is empty');
    return new CommandTemplate(program, args);
  }

  /** The program (looked up on PATH by spawn) and its arguments, for one file. */
  render(values: Record<Placeholder, string>): { program: string; args: string[] } {
    const word = (parts: readonly Part[]): string => parts.map((p) => ('literal' in p ? p.literal : values[p.placeholder])).join('');
    return { program: word(this.program), args: this.args.map(word) };
  }
}

function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  const append = (s: string): void => {
    word = (word ?? '') + s;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ConfigError(`--exec: unterminated ' in ${JSON.stringify(text)}`);
      append(text.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && (text[j + 1] === '"' || text[j + 1] === '\\')) j++;
        s += text[j];
      }
      if (j >= text.length) throw new ConfigError(`--exec: unterminated " in ${JSON.stringify(text)}`);
      append(s);
      i = j + 1;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new ConfigError(`--exec: a lone \\ ends ${JSON.stringify(text)}`);
      append(text[i + 1]!);
      i += 2;
    } else {
      append(c);
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

function parsePlaceholders(word: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of word.matchAll(/\{([A-Za-z0-9_]+)\}/g)) {
    const name = m[1]!;
    if (!isPlaceholder(name)) {
      throw new ConfigError(`--exec: unknown placeholder {${name}} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')})`);
    }
    if (m.index > last) parts.push({ literal: word.slice(last, m.index) });
    parts.push({ placeholder: name });
    last = m.index + m[0].length;
  }
  if (last < word.length || parts.length === 0) parts.push({ literal: word.slice(last) });
  return parts;
}
