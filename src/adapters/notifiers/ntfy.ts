// ntfy: POST {url}/{topic}, the message as the body, title, priority and tags as headers (ntfy's
// "Publish" API), an access token as `Authorization: Bearer`.
//
// The X- spellings of the headers are ntfy's own first choice (it reads x-title, then title, …). They matter for
// Priority: RFC 9218 gave `Priority` a meaning of its own, and proxies in front of ntfy (Cloudflare) set it to
// `u=…`, which ntfy then ignores: `X-Priority` goes through untouched.
import path from 'node:path';
import { InvalidOptionError } from '../../core/errors.js';
import { encodeHeaderValue } from '../../core/notify/encoded-words.js';
import { clipUtf8, oneLine } from '../../core/notify/text.js';
import type { Notification, NotifierPort } from '../../supervisor/ports.js';
import { post, validTimeout } from './http.js';
import { appendPath, endpointOf, parseHttpUrl, type Endpoint } from './target.js';
import { readTokenFile } from './token-file.js';

export interface NtfyNotifierOptions {
  /** the ntfy server, e.g. https://ntfy.sh */
  url: string;
  /** 1 to 64 of A-Z a-z 0-9 _ - */
  topic: string;
  /** absolute path of a file holding an access token (tk_…); read at every send. Optional. */
  tokenFile?: string;
  /** per send, connect to answer. Default 10 s. */
  timeoutMs?: number;
}

/**
 * ntfy turns a body of `message-size-limit` (4096) bytes or more into an attachment, which a server without an
 * attachment store refuses (400, "attachments not allowed"): the limit is exclusive. Stay well under it.
 */
export const NTFY_MAX_BODY_BYTES = 4000;

const TOPIC = /^[-_A-Za-z0-9]{1,64}$/;

export class NtfyNotifier implements NotifierPort {
  readonly kind = 'ntfy' as const;
  readonly target: string;
  private readonly endpoint: Endpoint;
  private readonly tokenFile: string | undefined;
  private readonly timeoutMs: number;

  constructor(opts: NtfyNotifierOptions) {
    const base = parseHttpUrl('url', opts?.url);
    if (typeof opts.topic !== 'string' || !TOPIC.test(opts.topic)) {
      throw new InvalidOptionError('topic', 'an ntfy topic: 1 to 64 of A-Z, a-z, 0-9, "_", "-"', opts.topic);
    }
    if (opts.tokenFile !== undefined && (typeof opts.tokenFile !== 'string' || !path.isAbsolute(opts.tokenFile))) {
      throw new InvalidOptionError('tokenFile', 'an absolute path to the file holding the ntfy access token', opts.tokenFile);
    }
    this.endpoint = endpointOf(appendPath(base, opts.topic));
    this.target = this.endpoint.target;
    this.tokenFile = opts.tokenFile;
    this.timeoutMs = validTimeout(opts.timeoutMs);
  }

  async send(n: Notification): Promise<void> {
    const token = this.tokenFile === undefined ? undefined : await readTokenFile(this.kind, this.tokenFile);
    const authorization = token !== undefined ? `Bearer ${token}` : this.endpoint.basicAuth;
    await post({
      kind: this.kind,
      url: this.endpoint.url,
      target: this.target,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'x-title': encodeHeaderValue(oneLine(n.title)),
        'x-priority': n.priority,
        // each tag its own encoded word: ntfy splits on commas, then decodes each tag
        'x-tags': n.tags.map((t) => encodeHeaderValue(oneLine(t).replace(/,/g, ' '))).filter(Boolean).join(','),
        ...(authorization ? { authorization } : {}),
      },
      body: clipUtf8(n.message, NTFY_MAX_BODY_BYTES),
      timeoutMs: this.timeoutMs,
      secrets: [...(token !== undefined ? [token] : []), ...this.endpoint.secrets],
      authHint: this.tokenFile !== undefined
        ? `check the access token in ${this.tokenFile} and that it may write to the topic`
        : 'the topic needs an access token: set tokenFile in the config',
    });
  }
}
