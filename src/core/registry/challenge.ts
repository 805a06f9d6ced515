// WWW-Authenticate (RFC 7235) as registries send it, and the token URL of the Docker token flow:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"
//   Basic realm="Registry Realm"
// Scheme and parameter names are case-insensitive (kept lower case here); values keep their case. Quoted
// values may hold commas and backslash escapes; one header may carry several challenges.

export interface Challenge {
  /** lower case: "bearer", "basic", … */
  scheme: string;
  /** parameter names lower case, values as sent */
  params: Record<string, string>;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Every challenge in the header (undici gives an array when the header came more than once). Never throws. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((h) => parseChallenges(h));
  const s = header;
  let i = 0;
  const out: Challenge[] = [];
  const skip = (re: RegExp) => { while (i < s.length && re.test(s[i] as string)) i++; };
  const token = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i] as string)) i++;
    return s.slice(start, i);
  };
  const bare = (): string => {
    const start = i;
    while (i < s.length && !/[\s,]/.test(s[i] as string)) i++;
    return s.slice(start, i);
  };
  const quoted = (): string => {
    let v = '';
    i++; // opening quote
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote (or end)
    return v;
  };

  while (i < s.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (scheme === '') { i++; continue; } // a stray character: skip it
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skip(/[ \t]/);
    // auth-params until the next challenge: a token NOT followed by "=" starts one
    for (;;) {
      skip(/[\s,]/);
      const mark = i;
      const name = token();
      skip(/[ \t]/);
      if (name === '' || s[i] !== '=') { i = mark; break; }
      i++;
      skip(/[ \t]/);
      // RFC 7235 wants a token or a quoted string; some registries send an unquoted URL, so read to "," or space
      const value = s[i] === '"' ? quoted() : bare();
      challenge.params[name.toLowerCase()] = value;
    }
  }
  return out;
}

/** The challenge stackd answers: Bearer (the token flow) before Basic; others (Negotiate, …) are not spoken. */
export function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
}

/** The pull scope of one repository, as the token service expects it. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/**
 * The token request URL of a Bearer challenge: realm?service=…&scope=repository:<repo>:pull. The service is
 * optional (some registries send none). The scope is always stackd's own, for the repository it is reading,
 * not one copied from the challenge: a registry's challenge names what the refused request needed, which for
 * a manifest read is this same pull scope anyway.
 */
export function tokenUrl(challenge: Challenge, repository: string): { url: string } | { error: string } {
  const realm = challenge.params.realm;
  if (realm === undefined || realm === '') return { error: 'the Bearer challenge names no realm (token service)' };
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    return { error: `the Bearer challenge's realm "${realm}" is not a URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { error: `the Bearer challenge's realm "${realm}" is not an http(s) URL` };
  }
  const service = challenge.params.service;
  if (service !== undefined && service !== '') url.searchParams.set('service', service);
  url.searchParams.set('scope', pullScope(repository));
  return { url: url.toString() };
}
