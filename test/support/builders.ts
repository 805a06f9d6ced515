// Small builders for core tests: one running container of project "p" with no healthcheck, changed by
// `over`. Shared so every table starts from the same baseline.
import type { ObservedContainer } from '../../src/core/model.js';

export const NOW = Date.parse('2026-11-26T12:00:00Z');
export const ago = (ms: number): string => new Date(NOW - ms).toISOString();

export function container(service: string, over: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id: `${service}-id`,
    name: `p-${service}-1`,
    service,
    project: 'p',
    state: 'running',
    exitCode: 0,
    health: 'none',
    labels: {},
    image: 'busybox',
    ...over,
  };
}
