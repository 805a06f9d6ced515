// The YAML input shape of stackd.yaml (DESIGN.md "Interfaces users touch"). parseConfig validates against it and
// resolves it into the Config of config-types.ts.
//
// Two stackd keywords ride along in the schema, both registered with ajv in config.ts:
//   x-expected  what to tell the user was expected when the value is wrong (annotation only);
//   x-check     the name of a value check in config.ts (durations, names, paths, URLs, listen address), so that
//               every per-value problem is found in the same ajv pass as the shape problems.
import Type from 'typebox';
import { DURATION_EXPECTED } from './duration.js';

/** Defaults of every optional setting; the example config documents the same values (a test keeps them equal). */
export const CONFIG_DEFAULTS = {
  composeCommand: ['podman', 'compose'],
  composeInfoCache: '60s',
  listenHost: '127.0.0.1',
  queue: { concurrency: 'auto', maxConcurrency: 8, retryBase: '10s', retryMax: '5m', resync: '10m' },
  defaults: { startupTimeout: '300s', envWait: '30s', healthWindow: '5m', repair: 'none' },
  staleHealth: { startingFloor: '2m', unhealthyAfter: '5m', recheckWindow: '30m' },
  cleanup: { maxAge: '4h', timerMinAge: '60s', gcEvery: '1h', pruneEvery: '24h' },
  removedStacks: 'stop',
  update: { mode: 'apply', settle: '2m', gateSlack: '30s', notifyOnSuccess: false },
} as const;

export type CheckName =
  | 'duration'
  | 'positive-duration'
  | 'path'
  | 'url'
  | 'listen'
  | 'concurrency'
  | 'stack-name'
  | 'project-name'
  | 'unit-name';


function duration(defaultValue: string, check: CheckName = 'positive-duration') {
  return Type.Optional(
    Type.Union([Type.String(), Type.Number()], { 'x-check': check, 'x-expected': DURATION_EXPECTED, default: defaultValue }),
  );
}
/** Per-stack overrides: their default is the matching `defaults` key, so no `default` annotation. */
function stackDuration(check: CheckName = 'positive-duration') {
  return Type.Optional(Type.Union([Type.String(), Type.Number()], { 'x-check': check, 'x-expected': DURATION_EXPECTED }));
}

function path(what: string) {
  return Type.String({ 'x-check': 'path', 'x-expected': `expected the path of ${what} (absolute, ~/…, or relative to the config file)` });
}

function pathOrPaths(what: string, minItems: number) {
  const expected = minItems > 0 ? `expected the path of ${what}, or a list of one or more` : `expected the path of ${what}, or a list of them`;
  return Type.Union([path(what), Type.Array(path(what), { minItems, 'x-expected': expected })], { 'x-expected': expected });
}

const url = (what: string) => Type.String({ 'x-check': 'url', 'x-expected': `expected the http(s) URL of ${what}` });

const section = <T extends Type.TProperties>(properties: T) =>
  Type.Optional(Type.Object(properties, { additionalProperties: false, 'x-expected': 'expected a mapping of keys' }));

export const PodmanSchema = section({
  socket: Type.Optional(path('the rootless podman API socket')),
  composeCommand: Type.Optional(
    Type.Array(Type.String({ minLength: 1, 'x-expected': 'expected a non-empty argument' }), {
      minItems: 1,
      default: CONFIG_DEFAULTS.composeCommand,
      'x-expected': 'expected the compose command as a list of arguments, like [podman, compose]',
    }),
  ),
  composeInfoCache: duration(CONFIG_DEFAULTS.composeInfoCache, 'duration'),
});

export const ApiSchema = section({
  socket: Type.Optional(path("stackd's API unix socket")),
  listen: Type.Optional(
    Type.Union([Type.String(), Type.Integer()], {
      'x-check': 'listen',
      'x-expected': 'expected host:port or a bare port, like 127.0.0.1:9310 or 9310',
    }),
  ),
});

export const CONCURRENCY_EXPECTED = 'expected auto or a whole number from 1 to 32';

export const QueueSchema = section({
  concurrency: Type.Optional(
    // checked by x-check: a union with a literal would report a bare "must be equal to constant"
    Type.Union([Type.String(), Type.Number()], {
      default: CONFIG_DEFAULTS.queue.concurrency,
      'x-check': 'concurrency',
      'x-expected': CONCURRENCY_EXPECTED,
    }),
  ),
  maxConcurrency: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 32,
      default: CONFIG_DEFAULTS.queue.maxConcurrency,
      'x-expected': 'expected a whole number from 1 to 32',
    }),
  ),
  retryBase: duration(CONFIG_DEFAULTS.queue.retryBase),
  retryMax: duration(CONFIG_DEFAULTS.queue.retryMax),
  resync: duration(CONFIG_DEFAULTS.queue.resync),
});

const REPAIR_EXPECTED = 'expected none (events only alert) or reconcile (a container that died or went unhealthy queues one reconcile, at most once per healthWindow)';

export const DefaultsSchema = section({
  startupTimeout: duration(CONFIG_DEFAULTS.defaults.startupTimeout),
  envWait: duration(CONFIG_DEFAULTS.defaults.envWait, 'duration'),
  healthWindow: duration(CONFIG_DEFAULTS.defaults.healthWindow, 'duration'),
  repair: Type.Optional(Type.Enum(['none', 'reconcile'], { 'x-expected': REPAIR_EXPECTED, default: CONFIG_DEFAULTS.defaults.repair })),
});

export const StaleHealthSchema = section({
  startingFloor: duration(CONFIG_DEFAULTS.staleHealth.startingFloor, 'duration'),
  unhealthyAfter: duration(CONFIG_DEFAULTS.staleHealth.unhealthyAfter, 'duration'),
  recheckWindow: duration(CONFIG_DEFAULTS.staleHealth.recheckWindow, 'duration'),
});

export const CleanupSchema = section({
  maxAge: duration(CONFIG_DEFAULTS.cleanup.maxAge, 'duration'),
  timerMinAge: duration(CONFIG_DEFAULTS.cleanup.timerMinAge, 'duration'),
  gcEvery: duration(CONFIG_DEFAULTS.cleanup.gcEvery),
  pruneEvery: duration(CONFIG_DEFAULTS.cleanup.pruneEvery),
});

const UPDATE_MODE_EXPECTED = 'expected off (never looked at), monitor (report and notify only) or apply (update, gate, roll back)';

export const UpdateSchema = section({
  mode: Type.Optional(Type.Enum(['off', 'monitor', 'apply'], { 'x-expected': UPDATE_MODE_EXPECTED, default: CONFIG_DEFAULTS.update.mode })),
  settle: duration(CONFIG_DEFAULTS.update.settle),
  gateSlack: duration(CONFIG_DEFAULTS.update.gateSlack, 'duration'),
  notifyOnSuccess: Type.Optional(Type.Boolean({ 'x-expected': 'expected true or false', default: CONFIG_DEFAULTS.update.notifyOnSuccess })),
});

const notifierOptions = { additionalProperties: false, 'x-expected': 'expected a mapping of keys' } as const;

export const GotifySchema = Type.Object(
  {
    url: url('the Gotify server'),
    tokenFile: path('a file holding the Gotify application token'),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, 'x-expected': 'expected a Gotify priority from 0 to 10' })),
  },
  notifierOptions,
);

export const NtfySchema = Type.Object(
  {
    url: url('the ntfy server, like https://ntfy.sh'),
    topic: Type.String({ pattern: '^[-_A-Za-z0-9]{1,64}$', 'x-expected': 'expected an ntfy topic: 1 to 64 of A-Z, a-z, 0-9, "_", "-"' }),
    tokenFile: Type.Optional(path('a file holding the ntfy access token')),
  },
  notifierOptions,
);

export const WebhookSchema = Type.Object(
  {
    url: url('the webhook'),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String({ 'x-expected': 'expected a header value (a string)' }), {
        'x-expected': 'expected a mapping of header names to values',
      }),
    ),
  },
  notifierOptions,
);

// One key per entry, written `- gotify: {...}`. An object with three optional keys and min/maxProperties 1,
// rather than a union of three objects, makes ajv point at the one wrong key instead of three branches.
export const NotifierSchema = Type.Object(
  { gotify: Type.Optional(GotifySchema), ntfy: Type.Optional(NtfySchema), webhook: Type.Optional(WebhookSchema) },
  {
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    'x-expected': 'expected exactly one of gotify, ntfy or webhook in each entry',
  },
);

export const StackSchema = Type.Object(
  {
    name: Type.String({
      'x-check': 'stack-name',
      'x-expected': 'expected a stack name (a string: quote names YAML would read as numbers, like "2024")',
    }),
    project: Type.Optional(Type.String({ 'x-check': 'project-name', 'x-expected': 'expected a compose project name' })),
    compose: pathOrPaths('a compose file', 1),
    envFiles: Type.Optional(pathOrPaths('an env file', 0)),
    unit: Type.Optional(Type.String({ 'x-check': 'unit-name', 'x-expected': 'expected a unit name like immich.service' })),
    startupTimeout: stackDuration(),
    envWait: stackDuration('duration'),
    healthWindow: stackDuration('duration'),
    repair: Type.Optional(Type.Enum(['none', 'reconcile'], { 'x-expected': REPAIR_EXPECTED })),
    update: Type.Optional(Type.Enum(['off', 'monitor', 'apply'], { 'x-expected': UPDATE_MODE_EXPECTED })),
  },
  { additionalProperties: false, 'x-expected': 'expected a stack: a mapping with at least name and compose' },
);

export const ConfigSchema = Type.Object(
  {
    podman: PodmanSchema,
    api: ApiSchema,
    queue: QueueSchema,
    defaults: DefaultsSchema,
    staleHealth: StaleHealthSchema,
    cleanup: CleanupSchema,
    stateFile: Type.Optional(path("stackd's state file")),
    removedStacks: Type.Optional(Type.Enum(['stop', 'down', 'keep'], {
      'x-expected': 'expected stop (containers stopped, kept), down (containers and networks removed, volumes kept) or keep (left running)',
    })),
    update: UpdateSchema,
    notify: Type.Optional(Type.Array(NotifierSchema, { 'x-expected': 'expected a list of notifiers' })),
    stacks: Type.Array(StackSchema, { 'x-expected': 'expected a list of stacks (an empty list [] is fine)' }),
  },
  { additionalProperties: false, 'x-expected': 'expected a mapping with at least a stacks: key' },
);

export type ConfigInput = Type.Static<typeof ConfigSchema>;
export type StackInput = Type.Static<typeof StackSchema>;
export type NotifierInput = Type.Static<typeof NotifierSchema>;
