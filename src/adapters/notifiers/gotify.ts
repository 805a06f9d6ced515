// Gotify (the owner's): POST {url}/message with the application token in X-Gotify-Key and a JSON body
// {title, message, priority} (Gotify's API: "Create a message", application token auth).
import path from 'node:path';
import { InvalidOptionError } from '../../core/errors.js';
import type { Notification, NotifierPort } from '../../supervisor/ports.js';
import { post, validTimeout } from './http.js';
import { appendPath, endpointOf, parseHttpUrl, type Endpoint } from './target.js';
import { readTokenFile } from './token-file.js';

export interface GotifyNotifierOptions {
  /** the Gotify server, e.g. https://gotify.lan (or https://host/gotify behind a path) */
  url: string;
  /** absolute path of a file holding the application token; read at every send */
  tokenFile: string;
  /** 0 to 10: when set, every message is sent with it; otherwise by level (GOTIFY_PRIORITY) */
  priority?: number;
  /** per send, connect to answer. Default 10 s. */
  timeoutMs?: number;
}

/** Gotify's priorities by level: clients show 8 and up as a loud notification, 4–7 with sound, 1–3 silent. */
export const GOTIFY_PRIORITY: Readonly<Record<Notification['priority'], number>> = { high: 8, default: 5, low: 2 };

export class GotifyNotifier implements NotifierPort {
  readonly kind = 'gotify' as const;
  readonly target: string;
  private readonly endpoint: Endpoint;
  private readonly tokenFile: string;
  private readonly priority: number | undefined;
  private readonly timeoutMs: number;

  constructor(opts: GotifyNotifierOptions) {
    this.endpoint = endpointOf(appendPath(parseHttpUrl('url', opts?.url), 'message'));
    this.target = this.endpoint.target;
    if (typeof opts.tokenFile !== 'string' || !path.isAbsolute(opts.tokenFile)) {
      throw new InvalidOptionError('tokenFile', 'an absolute path to the file holding the Gotify application token', opts.tokenFile);
    }
    if (opts.priority !== undefined && !(Number.isInteger(opts.priority) && opts.priority >= 0 && opts.priority <= 10)) {
      throw new InvalidOptionError('priority', 'an integer from 0 to 10', opts.priority);
    }
    this.tokenFile = opts.tokenFile;
    this.priority = opts.priority;
    this.timeoutMs = validTimeout(opts.timeoutMs);
  }

  async send(n: Notification): Promise<void> {
    const token = await readTokenFile(this.kind, this.tokenFile);
    await post({
      kind: this.kind,
      url: this.endpoint.url,
      target: this.target,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'x-gotify-key': token,
        ...(this.endpoint.basicAuth ? { authorization: this.endpoint.basicAuth } : {}),
      },
      body: JSON.stringify({ title: n.title, message: n.message, priority: this.priority ?? GOTIFY_PRIORITY[n.priority] }),
      timeoutMs: this.timeoutMs,
      secrets: [token, ...this.endpoint.secrets],
      authHint: `check the application token in ${this.tokenFile} (Gotify: Apps → the app's token)`,
    });
  }
}
