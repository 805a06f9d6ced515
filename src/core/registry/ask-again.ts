// When stackd asks a rate-limited registry again, said the same way in every update row that names it.

/**
 * retryAtMs: epoch ms before which stackd does not ask `registry` again (the end of the wait its 429's
 * Retry-After asked for, a day at most); undefined when the 429 asked for no wait, so only the rest of this
 * run leaves the registry alone.
 */
export function askAgainText(registry: string, retryAtMs: number | undefined): string {
  if (retryAtMs === undefined) return 'the next run tries again';
  return `stackd asks ${registry} again in the first run after ${new Date(retryAtMs).toISOString()}`;
}
