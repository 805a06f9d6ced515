// A notifier's URL as it may be shown (logs, errors, the failure metric's log line) and as it is requested.
// Credentials in a URL (https://user:pass@host/…) are moved into an Authorization header: undici would send
// them nowhere, and they must never be printed.
import { InvalidOptionError } from '../../core/errors.js';

export interface Endpoint {
  /** what is requested: the URL without user:password */
  url: string;
  /** what may be printed: origin and path; query values (a token in ?token=…) replaced by *** */
  target: string;
  /** `Basic …` when the configured URL carried user:password */
  basicAuth?: string;
  /** the user and password of that user:password, to scrub from anything the server answers */
  secrets: string[];
}

/** Parses an absolute http(s) URL option; `option` names it in the error. */
export function parseHttpUrl(option: string, value: unknown): URL {
  if (typeof value !== 'string' || !URL.canParse(value)) throw new InvalidOptionError(option, 'an absolute http(s) URL', value);
  const u = new URL(value);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidOptionError(option, 'an http(s) URL', value);
  return u;
}

/** `base` with `segment` appended to its path (one slash between), query kept. */
export function appendPath(base: URL, segment: string): URL {
  const u = new URL(base.href);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${segment}`;
  return u;
}

export function endpointOf(u: URL): Endpoint {
  const url = new URL(u.href);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const shown = new URL(url.href);
  for (const key of [...new Set(shown.searchParams.keys())]) shown.searchParams.set(key, '***');
  // URLSearchParams percent-encodes the *** it writes: show it as written
  const target = `${shown.origin}${shown.pathname}${shown.search.replace(/%2A/g, '*')}`;
  const endpoint: Endpoint = { url: url.href, target, secrets: [user, password].filter((s) => s !== '') };
  if (user || password) endpoint.basicAuth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return endpoint;
}
