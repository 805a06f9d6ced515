import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventIsNews } from '../../../src/core/event-news.js';
import type { ObservedContainer } from '../../../src/core/model.js';

const captured = JSON.parse(readFileSync(new URL('../../fixtures/libpod-event.health-status.json', import.meta.url), 'utf8')) as { id: string; HealthStatus: string };
const ID = captured.id;

function container(over: Partial<ObservedContainer>): ObservedContainer {
  return { id: ID, name: 'evprobe', service: 'web', project: 'p', state: 'running', exitCode: 0, health: 'healthy', labels: {}, image: 'x', ...over };
}

describe('eventIsNews', () => {
  it.each<[string, unknown, ObservedContainer[], boolean]>([
    ['the captured health_status, same health, running: nothing new', captured, [container({})], false],
    ['health changed (healthy → unhealthy)', { ...captured, HealthStatus: 'unhealthy' }, [container({})], true],
    ['stackd knew it as starting', captured, [container({ health: 'starting' })], true],
    ['the container is not running in what stackd knows', captured, [container({ state: 'exited' })], true],
    ['a container stackd does not know', captured, [container({ id: 'f'.repeat(64) })], true],
    ['nothing known yet', captured, [], true],
    ['no HealthStatus field', { ...captured, HealthStatus: undefined }, [container({})], true],
    ['another action', { ...captured, Action: 'died', status: 'died' }, [container({})], true],
    ['not an object', 'x', [container({})], true],
  ])('%s → %s', (_what, ev, known, news) => {
    expect(eventIsNews(ev, known)).toBe(news);
  });
});
