// The edit planner of `stackctl fix`: each case is a compose file's text, what check asked for, and the exact
// text expected after; every case is also re-planned on its result to prove idempotence.
import { describe, expect, it } from 'vitest';
import { planFileFix, type FileFixRequest } from '../../../src/core/compose-fix.js';
import { qualifiedImageRef } from '../../../src/core/image-ref.js';

const UNIT = 'p.service';
const req = (over: Partial<FileFixRequest> = {}): FileFixRequest => ({ unitLabelServices: [], unit: UNIT, removeVersion: true, qualifyImages: false, ...over });

const cases: { name: string; text: string; req: FileFixRequest; after: string }[] = [
  {
    name: 'map-style labels get the key at the column of the others, comments kept',
    text: 'services:\n  web:  # the site\n    image: x/y:1\n    labels:\n      io.containers.autoupdate: registry # nightly\n    restart: always\n',
    req: req({ unitLabelServices: ['web'] }),
    after: 'services:\n  web:  # the site\n    image: x/y:1\n    labels:\n      io.containers.autoupdate: registry # nightly\n      PODMAN_SYSTEMD_UNIT: p.service\n    restart: always\n',
  },
  {
    name: 'list-style labels get a list item in the quoting of the first item',
    text: 'services:\n  web:\n    labels:\n      - "io.containers.autoupdate=registry"\n',
    req: req({ unitLabelServices: ['web'] }),
    after: 'services:\n  web:\n    labels:\n      - "io.containers.autoupdate=registry"\n      - "PODMAN_SYSTEMD_UNIT=p.service"\n',
  },
  {
    name: 'flow map and flow list stay flow',
    text: 'services:\n  a:\n    labels: { io.containers.autoupdate: registry }\n  b:\n    labels: [io.containers.autoupdate=registry]\n',
    req: req({ unitLabelServices: ['a', 'b'] }),
    after: 'services:\n  a:\n    labels: { io.containers.autoupdate: registry, PODMAN_SYSTEMD_UNIT: p.service }\n  b:\n    labels: [io.containers.autoupdate=registry, PODMAN_SYSTEMD_UNIT=p.service]\n',
  },
  {
    name: 'no labels: a map-style labels key is created at the service key column',
    text: 'services:\n   web:\n      image: x/y:1\n\n   db:\n      image: x/z:1\n',
    req: req({ unitLabelServices: ['web'] }),
    after: 'services:\n   web:\n      image: x/y:1\n      labels:\n         PODMAN_SYSTEMD_UNIT: p.service\n\n   db:\n      image: x/z:1\n',
  },
  {
    name: 'a wrong unit is changed in place, keeping its quotes',
    text: "services:\n  a:\n    labels:\n      PODMAN_SYSTEMD_UNIT: 'podman-compose@p.service'\n  b:\n    labels: [\"PODMAN_SYSTEMD_UNIT=old.service\"]\n",
    req: req({ unitLabelServices: ['a', 'b'] }),
    after: "services:\n  a:\n    labels:\n      PODMAN_SYSTEMD_UNIT: 'p.service'\n  b:\n    labels: [\"PODMAN_SYSTEMD_UNIT=p.service\"]\n",
  },
  {
    name: 'labels shared through an anchor are edited once, at the anchor',
    text: 'x-labels: &common\n  io.containers.autoupdate: registry\nservices:\n  a:\n    labels: *common\n  b:\n    labels: *common\n',
    req: req({ unitLabelServices: ['a', 'b'] }),
    after: 'x-labels: &common\n  io.containers.autoupdate: registry\n  PODMAN_SYSTEMD_UNIT: p.service\nservices:\n  a:\n    labels: *common\n  b:\n    labels: *common\n',
  },
  {
    name: 'the obsolete version line that opens the file goes with the blank line after it',
    text: 'version: "3.8" # old\n\nservices:\n  a:\n    image: x/y:1\n',
    req: req(),
    after: 'services:\n  a:\n    image: x/y:1\n',
  },
  {
    name: 'a version line under a comment goes alone: the comment and the blank line stay',
    text: '# my stack\nversion: "3.8"\n\nservices:\n  a:\n    image: x/y:1\n',
    req: req(),
    after: '# my stack\n\nservices:\n  a:\n    image: x/y:1\n',
  },
  {
    name: 'short images are qualified only when asked, tag and digest kept',
    text: "services:\n  a:\n    image: nginx\n  b:\n    image: 'user/app:2'\n  c:\n    image: localhost/x:1\n  d:\n    image: ${IMG}\n",
    req: req({ qualifyImages: true }),
    after: "services:\n  a:\n    image: docker.io/library/nginx\n  b:\n    image: 'docker.io/user/app:2'\n  c:\n    image: localhost/x:1\n  d:\n    image: ${IMG}\n",
  },
];

describe('planFileFix', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = planFileFix(c.text, c.req);
      expect(r.manual).toEqual([]);
      expect(r.after).toBe(c.after);
      expect(r.edits.length).toBeGreaterThan(0);
      // idempotent: the fixed file needs nothing more (the labels now name the unit, check asks for nothing)
      const again = planFileFix(r.after, { ...c.req, unitLabelServices: [] });
      expect(again.edits).toEqual([]);
      expect(again.after).toBe(r.after);
    });
  }

  it('changes nothing when nothing is asked', () => {
    const text = 'services:\n  a:\n    image: nginx\n';
    expect(planFileFix(text, req())).toEqual({ after: text, edits: [], manual: [] });
  });

  it('a service the file does not define is left for a fix by hand, named', () => {
    const r = planFileFix('services:\n  a:\n    image: x/y:1\n', req({ unitLabelServices: ['ghost'] }));
    expect(r.edits).toEqual([]);
    expect(r.manual.join()).toContain('service "ghost"');
  });

  it('bytes outside the edited lines are identical', () => {
    const text = 'services:   # odd spacing kept\n  web:\n    command: ["sh",   "-c", "a very long line that yaml would otherwise fold when it re-serialises the whole document again"]\n    labels:\n    - io.containers.autoupdate=registry\n\n\n    restart: "no"\n';
    const r = planFileFix(text, req({ unitLabelServices: ['web'] }));
    const removedAdded = r.after.split('\n').filter((l) => !text.split('\n').includes(l));
    expect(removedAdded).toEqual(['    - PODMAN_SYSTEMD_UNIT=p.service']);
    expect(r.after.replace('    - PODMAN_SYSTEMD_UNIT=p.service\n', '')).toBe(text);
  });
});

describe('qualifiedImageRef', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['library/nginx', 'docker.io/library/nginx'],
    ['user/app', 'docker.io/user/app'],
    ['docker.io/library/nginx', undefined],
    ['localhost:5000/app:1', undefined],
    ['${IMAGE}', undefined],
  ])('%s → %s', (ref, want) => {
    expect(qualifiedImageRef(ref)).toBe(want);
  });
});
