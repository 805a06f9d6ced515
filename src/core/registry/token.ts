// The token service's answer (Docker token flow): {"token": "…", "expires_in": 300, "issued_at": "…"} or the
// OAuth2 spelling {"access_token": "…"}. Pure: the caller passes its clock.

/** The token spec says a token without expires_in lives 60 s, and clients should not expect less. */
export const DEFAULT_TOKEN_SECONDS = 60;

export interface Token {
  token: string;
  /** epoch ms after which the token is not sent again (a fresh one is fetched) */
  expiresAtMs: number;
}

export function parseTokenResponse(body: unknown, nowMs: number): Token | { error: string } {
  if (typeof body !== 'object' || body === null) return { error: 'the token service did not answer a JSON object' };
  const b = body as Record<string, unknown>;
  const token = typeof b.token === 'string' && b.token !== '' ? b.token
    : typeof b.access_token === 'string' && b.access_token !== '' ? b.access_token : undefined;
  if (token === undefined) return { error: 'the token service answered without "token" or "access_token"' };
  const expiresIn = typeof b.expires_in === 'number' && Number.isFinite(b.expires_in) && b.expires_in >= DEFAULT_TOKEN_SECONDS
    ? b.expires_in : DEFAULT_TOKEN_SECONDS;
  return { token, expiresAtMs: nowMs + expiresIn * 1000 };
}
