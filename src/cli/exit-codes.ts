/**
 * stackctl's exit codes, what scripts and systemd see.
 * - `unreachable` means "stackd is not there to do it": nothing answers on the socket, or stackd answered 503
 *   shutting-down (it is stopping and takes no new work). Both have the same remedy, wait for stackd to
 *   (re)start and ask again, so they share a code; the message says which it was.
 * - `timedOut`: --timeout passed before the verdict (or health). Not `failed`: nothing failed yet, and stackd
 *   carries on with the request; the message says what is still running.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, unknownStack: 4, timedOut: 5 } as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
