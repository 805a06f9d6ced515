// Lines of an env file that docker-compose refuses, found before compose runs so the reason names the file, the
// line and the fix. compose's own words for these are "setenv: invalid argument" (no file, no line) or
// "line 3: unterminated quoted value" (a file, but reached only after compose started). Only what compose
// really refuses is listed (seen with docker-compose 2.26.1; fixtures in test/fixtures/bad/env/): a line without
// `=` (compose takes that variable from its environment), CRLF line ends, a byte-order mark, an `export `
// prefix and quotes are all accepted, so they are not problems. A problem never quotes a value: values are
// secrets.

export interface EnvFileProblem {
  /** 1-based line number */
  line: number;
  /** what is wrong and what to do, without the line's value */
  problem: string;
}

const BOM = '\uFEFF';

export function envFileProblems(text: string): EnvFileProblem[] {
  const problems: EnvFileProblem[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = (i === 0 ? raw.replace(BOM, '') : raw).trimStart();
    if (line.includes('\0')) {
      problems.push({ line: i + 1, problem: 'has a NUL byte; save the file as plain text' });
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const body = line.replace(/^export\s+/, '');
    const eq = body.indexOf('=');
    if (eq < 0) continue;
    const key = body.slice(0, eq).trim();
    if (key === '') {
      problems.push({ line: i + 1, problem: 'has no variable name before "="; write KEY=VALUE' });
      continue;
    }
    if (/\s/.test(key)) {
      // not quoted: such a line is often the second line of an unquoted multi-line value (a PEM key), so its
      // "name" is part of a secret that the redactor does not know (it is no value of any key)
      problems.push({ line: i + 1, problem: 'has a space in the text before "=", so it is no variable name; write KEY=VALUE with a name of letters, digits and "_" (a value that spans lines must be quoted: KEY="...")' });
      continue;
    }
    const rest = body.slice(eq + 1).trimStart();
    const quote = rest[0];
    if (quote !== '"' && quote !== "'") continue;
    const end = closingQuote(lines, i, rest.slice(1), quote);
    if (end === undefined) {
      problems.push({ line: i + 1, problem: `the value of ${key} opens a ${quote === '"' ? 'double' : 'single'} quote that is never closed; add the closing ${quote}` });
      return problems; // the rest of the file is inside the quote
    }
    i = end;
  }
  return problems;
}

/** The line on which a quoted value that starts on line `start` (after the opening quote) ends, or undefined. */
function closingQuote(lines: string[], start: number, first: string, quote: string): number | undefined {
  let text = first;
  for (let i = start; i < lines.length; i++) {
    for (let j = 0; j < text.length; j++) {
      const c = text[j];
      if (quote === '"' && c === '\\') j++;
      else if (c === quote) return i;
    }
    text = lines[i + 1] ?? '';
  }
  return undefined;
}
