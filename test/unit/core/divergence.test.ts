// The two decisions that gate compose: findDivergence (does the periodic resync reconcile a stack?) and
// isUpToDate (does a reconcile of a running stack run `compose up` at all?). One row per branch.
import { describe, expect, it } from 'vitest';
import { findDivergence, isUpToDate, type Divergence, type UpToDateInput } from '../../../src/core/divergence.js';
import type { DesiredState, ExpectedService, ObservedContainer } from '../../../src/core/model.js';
import { container } from '../../support/builders.js';

const service = (name: string, over: Partial<ExpectedService> = {}): ExpectedService => ({ name, labels: {}, oneShot: false, profiles: [], ...over });

const web = service('web');
const migrate = service('migrate', { oneShot: true });

describe('findDivergence', () => {
  it.each<[string, DesiredState, ExpectedService[], ObservedContainer[], Divergence]>([
    // running
    ['running: every service has a running container', 'running', [web], [container('web')], { kind: 'none' }],
    ['running: a service has no container at all', 'running', [web, migrate], [container('migrate', { state: 'exited' })],
      { kind: 'missing', services: ['web'] }],
    ['running: a crash-looping (exited) container is not missing (restart policy and health alerts own it)', 'running', [web],
      [container('web', { state: 'exited', exitCode: 3 })], { kind: 'none' }],
    ['running: a finished one-shot is not missing', 'running', [migrate], [container('migrate', { state: 'exited' })], { kind: 'none' }],
    ['running: no model yet (nothing expected) is not drift', 'running', [], [], { kind: 'none' }],
    ['running: every missing service is named', 'running', [web, migrate], [], { kind: 'missing', services: ['web', 'migrate'] }],
    // stopped
    ['stopped: a container still running', 'stopped', [web, migrate],
      [container('web'), container('migrate', { state: 'exited' })], { kind: 'should-be-stopped', containers: ['p-web-1'] }],
    ['stopped: nothing running (exited and created containers may stay)', 'stopped', [web, migrate],
      [container('web', { state: 'exited' }), container('migrate', { state: 'created' })], { kind: 'none' }],
    ['stopped: no containers', 'stopped', [web], [], { kind: 'none' }],
    // removed
    ['removed: running and exited containers left', 'removed', [web, migrate],
      [container('web'), container('migrate', { state: 'exited' })], { kind: 'should-be-removed', containers: ['p-web-1', 'p-migrate-1'] }],
    ['removed: a container of a service no longer in the model still counts', 'removed', [web],
      [container('old', { state: 'created' })], { kind: 'should-be-removed', containers: ['p-old-1'] }],
    ['removed: no containers left', 'removed', [web], [], { kind: 'none' }],
  ])('%s', (_what, desired, expected, containers, divergence) => {
    expect(findDivergence(desired, expected, containers)).toEqual(divergence);
  });
});

describe('isUpToDate', () => {
  const base: UpToDateInput = {
    fingerprint: 'f1', upFingerprint: 'f1', lastResultFailed: false, expected: [web, migrate],
    containers: [container('web'), container('migrate', { state: 'exited' })],
  };

  it.each<[string, Partial<UpToDateInput>, boolean]>([
    ['all fine: same inputs, long-running service running, one-shot has its container', {}, true],
    ['fingerprint unknown (inputs not read)', { fingerprint: undefined }, false],
    ['no successful up yet', { upFingerprint: undefined }, false],
    ['inputs changed since the last successful up', { fingerprint: 'f2' }, false],
    ['the last reconcile failed', { lastResultFailed: true }, false],
    ['a container is starting (preflight decides about it)', { containers: [container('web', { health: 'starting' }), container('migrate', { state: 'exited' })] }, false],
    ['a container is unhealthy', { containers: [container('web', { health: 'unhealthy' }), container('migrate', { state: 'exited' })] }, false],
    ['a one-shot without a container', { containers: [container('web')] }, false],
    ['a one-shot that is still running counts', { containers: [container('web'), container('migrate')] }, true],
    ['a long-running service whose container exited', { containers: [container('web', { state: 'exited' }), container('migrate', { state: 'exited' })] }, false],
    ['a long-running service without a container', { containers: [container('migrate', { state: 'exited' })] }, false],
    ['a healthy container is fine', { containers: [container('web', { health: 'healthy' }), container('migrate', { state: 'exited' })] }, true],
    ['nothing expected and nothing there', { expected: [], containers: [] }, true],
  ])('%s → %s', (_what, over, upToDate) => {
    expect(isUpToDate({ ...base, ...over })).toBe(upToDate);
  });
});
