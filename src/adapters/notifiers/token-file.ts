// Tokens are read from their file at every send, not at start: a rotated secret (a secrets unit rewrote the
// file) works without restarting stackd, and the token never sits in the config or in stackd's memory longer
// than one request.
import { readFile } from 'node:fs/promises';
import { errorCode } from '../../core/errors.js';
import { NotifierTokenFileError, type NotifierKind } from './errors.js';

/** The file's contents, trimmed (a trailing newline is not part of the token). */
export async function readTokenFile(kind: NotifierKind, file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = errorCode(err);
    const problem = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (EACCES)' : `cannot be read (${code ?? 'unknown error'})`;
    throw new NotifierTokenFileError(kind, file, problem, { cause: err });
  }
  const token = text.trim();
  if (token === '') throw new NotifierTokenFileError(kind, file, 'is empty');
  // A token is one line; a second line would become a second header (or undici refuses the value).
  if (/[\r\n]/.test(token)) throw new NotifierTokenFileError(kind, file, 'holds more than one line');
  return token;
}
