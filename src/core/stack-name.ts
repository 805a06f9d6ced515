// Names that end up in systemd unit names, compose project names and URLs. Each validator returns what was
// expected ("expected ...") when the name is not acceptable, or undefined; callers add the key and the value.

export const STACK_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** The stack's default unit is `<name>.service`: these would collide with units stackd relies on. */
export const RESERVED_STACK_NAMES: readonly string[] = ['podman', 'stackd', 'dbus'];

export const UNIT_NAME_PATTERN = /^[A-Za-z0-9:_.@-]+\.service$/;
/** Units stackd or podman own; a stack claiming one would make `stackctl units` overwrite or stop it. */
export const RESERVED_UNITS: readonly string[] = [
  ...RESERVED_STACK_NAMES.map((n) => `${n}.service`),
  'stackd-update.service',
  'podman-auto-update.service',
];
const UNIT_NAME_MAX = 255; // systemd's UNIT_NAME_MAX minus the NUL

/** docker-compose's own rule for project names (`-p`). */
export const PROJECT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

export function validateStackName(name: string): string | undefined {
  // said first: a 10 KB name is not "a stack name with a bad character"
  if (name.length > 63) return `expected a stack name of at most 63 characters (got ${name.length}): a-z, 0-9, "_" or "-"`;
  if (!STACK_NAME_PATTERN.test(name)) {
    return 'expected a stack name of 1 to 63 characters: a-z, 0-9, "_" or "-", starting with a letter or digit';
  }
  if (RESERVED_STACK_NAMES.includes(name)) {
    return `expected a name other than ${RESERVED_STACK_NAMES.join(', ')} (reserved: their units belong to stackd and podman)`;
  }
  return undefined;
}

export function validateUnitName(unit: string): string | undefined {
  if (unit.length > UNIT_NAME_MAX || !UNIT_NAME_PATTERN.test(unit)) {
    return 'expected a systemd unit name ending in .service (letters, digits and ":_.@-"), like immich.service';
  }
  // "foo@.service" is a template: systemd cannot start it without an instance.
  if (unit.endsWith('@.service')) return 'expected a unit that can be started, not a template; add the instance (name@instance.service)';
  if (RESERVED_UNITS.includes(unit)) return `expected a unit other than ${RESERVED_UNITS.join(', ')} (stackd and podman own them)`;
  return undefined;
}

export function validateProjectName(project: string): string | undefined {
  if (!PROJECT_NAME_PATTERN.test(project)) {
    return 'expected a compose project name: a-z, 0-9, "_" or "-", starting with a letter or digit';
  }
  return undefined;
}
