// THE one place that sends notifications: Gotify, ntfy and a generic webhook, each a NotifierPort
// (src/supervisor/ports.ts). send() throws on failure (errors in ./notifiers/errors.ts name the notifier and
// its URL, never a token); retrying, counting and never failing the work is the dispatcher's job
// (src/supervisor/notify-dispatcher.ts).
import type { NotifierConfig } from '../core/config-types.js';
import type { NotifierPort } from '../supervisor/ports.js';
import { GotifyNotifier } from './notifiers/gotify.js';
import { NtfyNotifier } from './notifiers/ntfy.js';
import { WebhookNotifier } from './notifiers/webhook.js';

export { GotifyNotifier, GOTIFY_PRIORITY, type GotifyNotifierOptions } from './notifiers/gotify.js';
export { NtfyNotifier, NTFY_MAX_BODY_BYTES, type NtfyNotifierOptions } from './notifiers/ntfy.js';
export { WebhookNotifier, type WebhookNotifierOptions, type WebhookPayload } from './notifiers/webhook.js';
export { DEFAULT_NOTIFY_TIMEOUT_MS } from './notifiers/http.js';
export {
  NotifierHttpError, NotifierTimeoutError, NotifierTokenFileError, NotifierUnreachableError, type NotifierKind,
} from './notifiers/errors.js';

export interface CreateNotifiersOptions {
  /** the host's name (os.hostname()): the webhook's `host` field */
  host: string;
  /** per send. Default 10 s. */
  timeoutMs?: number;
}

/** One notifier per entry of the config's `notify:` list, in order. */
export function createNotifiers(configs: readonly NotifierConfig[], opts: CreateNotifiersOptions): NotifierPort[] {
  const timeout = opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs };
  return configs.map((c): NotifierPort => {
    switch (c.kind) {
      case 'gotify':
        return new GotifyNotifier({ url: c.url, tokenFile: c.tokenFile, ...(c.priority !== undefined ? { priority: c.priority } : {}), ...timeout });
      case 'ntfy':
        return new NtfyNotifier({ url: c.url, topic: c.topic, ...(c.tokenFile !== undefined ? { tokenFile: c.tokenFile } : {}), ...timeout });
      case 'webhook':
        return new WebhookNotifier({ url: c.url, host: opts.host, ...(c.headers ? { headers: c.headers } : {}), ...timeout });
    }
  });
}
