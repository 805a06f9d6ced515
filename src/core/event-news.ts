// Which podman events can change what stackd shows. podman emits a `health_status` event after EVERY
// healthcheck run, changed or not (captured: test/fixtures/libpod-event.health-status.json, status in the
// top-level HealthStatus); re-listing the project for each cost an idle host with 20 healthchecked stacks 3–4
// podman calls a second (bench/scrape.ts). One that repeats the health stackd already has for that running
// container tells nothing new.
import type { ObservedContainer } from './model.js';

interface LibpodEvent {
  Action?: unknown;
  status?: unknown;
  id?: unknown;
  HealthStatus?: unknown;
  Actor?: { ID?: unknown };
}

/** false only for a health_status event that repeats the known health of a running container */
export function eventIsNews(ev: unknown, known: readonly ObservedContainer[]): boolean {
  if (typeof ev !== 'object' || ev === null) return true;
  const e = ev as LibpodEvent;
  if ((e.Action ?? e.status) !== 'health_status') return true;
  const id = e.Actor?.ID ?? e.id;
  const health = e.HealthStatus;
  if (typeof id !== 'string' || id === '' || typeof health !== 'string') return true;
  const c = known.find((x) => x.id === id);
  return !c || c.state !== 'running' || c.health !== health;
}
