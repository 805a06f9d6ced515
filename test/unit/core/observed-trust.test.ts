// The trust rule of the event-fed observed state (a requested `up` may skip podman's list only when it holds).
import { describe, expect, it } from 'vitest';
import { observedTrust, type TrustInput, type TrustVerdict } from '../../../src/core/observed-trust.js';

describe('observedTrust', () => {
  it.each<[string, TrustInput, TrustVerdict]>([
    ['stream up since before the list, no event since', { streamOpenedSeq: 1, listedSeq: 5, lastEventSeq: undefined }, { trusted: true }],
    ['the last event came before the list began (its re-list)', { streamOpenedSeq: 1, listedSeq: 5, lastEventSeq: 4 }, { trusted: true }],
    ['stream never up', { streamOpenedSeq: undefined, listedSeq: 5, lastEventSeq: undefined }, { trusted: false, why: 'stream-down' }],
    ['stream down now, even after a good list', { streamOpenedSeq: undefined, listedSeq: 5, lastEventSeq: 2 }, { trusted: false, why: 'stream-down' }],
    ['never listed', { streamOpenedSeq: 1, listedSeq: undefined, lastEventSeq: undefined }, { trusted: false, why: 'never-listed' }],
    ['listed before the stream answered (start)', { streamOpenedSeq: 7, listedSeq: 5, lastEventSeq: undefined }, { trusted: false, why: 'listed-before-stream' }],
    ['the stream reconnected after the list (a gap)', { streamOpenedSeq: 9, listedSeq: 5, lastEventSeq: 3 }, { trusted: false, why: 'listed-before-stream' }],
    ['an event after the list began (re-list pending, running or failed)', { streamOpenedSeq: 1, listedSeq: 5, lastEventSeq: 6 }, { trusted: false, why: 'event-since-list' }],
    ['an event while the list ran, the list finished later', { streamOpenedSeq: 1, listedSeq: 5, lastEventSeq: 8 }, { trusted: false, why: 'event-since-list' }],
  ])('%s', (_what, input, verdict) => {
    expect(observedTrust(input)).toEqual(verdict);
  });
});
