// A generic webhook: POST JSON {event, title, message, priority, tags, items, host} with the configured headers
// (an auth header of the receiver's, a source marker …). For anything stackd does not speak natively.
import { InvalidOptionError } from '../../core/errors.js';
import type { Notification, NotifierPort } from '../../supervisor/ports.js';
import { post, validTimeout } from './http.js';
import { endpointOf, parseHttpUrl, type Endpoint } from './target.js';

export interface WebhookNotifierOptions {
  url: string;
  /** sent as given with every request; their values are treated as secrets (never printed) */
  headers?: Record<string, string>;
  /** the host's name, sent as `host` so one receiver can serve several hosts */
  host: string;
  /** per send, connect to answer. Default 10 s. */
  timeoutMs?: number;
}

/** The JSON body a webhook receives. */
export interface WebhookPayload {
  event: Notification['event'];
  title: string;
  message: string;
  priority: Notification['priority'];
  tags: string[];
  items: Notification['items'];
  host: string;
}

export class WebhookNotifier implements NotifierPort {
  readonly kind = 'webhook' as const;
  readonly target: string;
  private readonly endpoint: Endpoint;
  private readonly headers: Record<string, string>;
  private readonly host: string;
  private readonly timeoutMs: number;

  constructor(opts: WebhookNotifierOptions) {
    this.endpoint = endpointOf(parseHttpUrl('url', opts?.url));
    this.target = this.endpoint.target;
    const headers = opts.headers ?? {};
    for (const [name, value] of Object.entries(headers)) {
      // undici refuses these too, but only at send time and without saying which header
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new InvalidOptionError('headers', 'HTTP header names (letters, digits, -)', name);
      if (typeof value !== 'string' || /[\r\n\0]/.test(value)) throw new InvalidOptionError(`headers.${name}`, 'a one-line string', '(hidden)');
    }
    if (typeof opts.host !== 'string' || opts.host === '') throw new InvalidOptionError('host', "the host's name", opts.host);
    this.headers = { ...headers };
    this.host = opts.host;
    this.timeoutMs = validTimeout(opts.timeoutMs);
  }

  async send(n: Notification): Promise<void> {
    const payload: WebhookPayload = {
      event: n.event, title: n.title, message: n.message, priority: n.priority, tags: n.tags, items: n.items, host: this.host,
    };
    await post({
      kind: this.kind,
      url: this.endpoint.url,
      target: this.target,
      headers: withConfigured({
        'content-type': 'application/json; charset=utf-8',
        ...(this.endpoint.basicAuth ? { authorization: this.endpoint.basicAuth } : {}),
      }, this.headers),
      body: JSON.stringify(payload),
      timeoutMs: this.timeoutMs,
      secrets: [...Object.values(this.headers), ...this.endpoint.secrets],
      authHint: 'check the credentials in the webhook\'s headers (or URL) in the config',
    });
  }
}

/** The configured headers win over stackd's own of the same name, whatever its case (one header, not two). */
function withConfigured(own: Record<string, string>, configured: Record<string, string>): Record<string, string> {
  const names = new Set(Object.keys(configured).map((k) => k.toLowerCase()));
  const kept = Object.entries(own).filter(([k]) => !names.has(k.toLowerCase()));
  return { ...Object.fromEntries(kept), ...configured };
}
