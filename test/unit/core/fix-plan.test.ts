import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { planComposeFix, qualifyImage, type FixWants } from '../../../src/core/fix-plan.js';
import { unifiedDiff } from '../../../src/core/unified-diff.js';

const label = (service: string): FixWants => ({ labels: [{ service, unit: 'app.service' }], removeVersion: false, qualifyImages: false });
const none: FixWants = { labels: [], removeVersion: false, qualifyImages: false };

describe('planComposeFix', () => {
  it.each<[string, string, FixWants, string]>([
    ['map labels: appended in their indentation, comments kept',
      'services:\n  web:\n    image: docker.io/library/nginx:1\n    labels:\n      # keep me\n      io.containers.autoupdate: "registry"\n    ports: ["80:80"]  # trailing\n',
      label('web'),
      'services:\n  web:\n    image: docker.io/library/nginx:1\n    labels:\n      # keep me\n      io.containers.autoupdate: "registry"\n      PODMAN_SYSTEMD_UNIT: app.service\n    ports: ["80:80"]  # trailing\n'],
    ['list labels (not indented under the key): a list item in the same column',
      'services:\n  web:\n    labels:\n    - io.containers.autoupdate=registry\n    - "a=b"\n\n  db:\n    image: x\n',
      label('web'),
      'services:\n  web:\n    labels:\n    - io.containers.autoupdate=registry\n    - "a=b"\n    - PODMAN_SYSTEMD_UNIT=app.service\n\n  db:\n    image: x\n'],
    ['no labels: a labels block after the last key (before the blank line)',
      'services:\n  web:\n    image: a/b:1 # c\n    command: |\n      echo hi\n\n  other:\n    image: c\n',
      label('web'),
      'services:\n  web:\n    image: a/b:1 # c\n    command: |\n      echo hi\n    labels:\n      PODMAN_SYSTEMD_UNIT: app.service\n\n  other:\n    image: c\n'],
    ['wrong unit, quoted: replaced keeping the quotes',
      "services:\n  web:\n    labels:\n      PODMAN_SYSTEMD_UNIT: 'podman-compose@web.service'\n",
      label('web'),
      "services:\n  web:\n    labels:\n      PODMAN_SYSTEMD_UNIT: 'app.service'\n"],
    ['wrong unit in a list',
      'services:\n  web:\n    labels:\n      - "PODMAN_SYSTEMD_UNIT=old.service"\n',
      label('web'),
      'services:\n  web:\n    labels:\n      - "PODMAN_SYSTEMD_UNIT=app.service"\n'],
    ['version removed, the comment above and anchors kept',
      '# top\nversion: "3.8"\nx-common: &common\n  restart: always\nservices:\n  web:\n    <<: *common\n    image: nginx\n',
      { labels: [], removeVersion: true, qualifyImages: false },
      '# top\nx-common: &common\n  restart: always\nservices:\n  web:\n    <<: *common\n    image: nginx\n'],
    ['short images qualified, quotes and digests kept, variables left alone',
      "services:\n  a:\n    image: nginx\n  b:\n    image: 'me/app:1'\n  c:\n    image: ${IMG}\n  d:\n    image: ghcr.io/x/y:1\n",
      { labels: [], removeVersion: false, qualifyImages: true },
      "services:\n  a:\n    image: docker.io/library/nginx\n  b:\n    image: 'docker.io/me/app:1'\n  c:\n    image: ${IMG}\n  d:\n    image: ghcr.io/x/y:1\n"],
    ['a file without a final newline',
      'services:\n  web:\n    labels:\n      a: b',
      label('web'),
      'services:\n  web:\n    labels:\n      a: b\n      PODMAN_SYSTEMD_UNIT: app.service\n'],
  ])('%s', (_name, input, wants, output) => {
    const plan = planComposeFix(input, wants);
    expect(plan.manual).toEqual([]);
    expect(plan.text).toBe(output);
    expect(plan.changes.length).toBeGreaterThan(0);
  });

  it.each<[string, string, RegExp]>([
    ['labels shared through an anchor', 'x: &l\n  a: b\nservices:\n  web:\n    labels: *l\n', /anchor or alias/],
    ['labels in flow style', 'services:\n  web:\n    labels: {a: b}\n', /flow style/],
    ['a merge key without own labels', 'x: &c\n  labels: {a: b}\nservices:\n  web:\n    <<: *c\n', /merge/],
  ])('refuses %s (nothing changed, a note for the human)', (_name, input, why) => {
    const plan = planComposeFix(input, label('web'));
    expect(plan.text).toBe(input);
    expect(plan.changes).toEqual([]);
    expect(plan.manual.join(' ')).toMatch(why);
  });

  it('is idempotent: a second plan over its own output changes nothing', () => {
    const input = 'version: "3"\nservices:\n  web:\n    image: nginx\n    labels:\n      - a=b\n';
    const wants: FixWants = { labels: [{ service: 'web', unit: 'app.service' }], removeVersion: true, qualifyImages: true };
    const first = planComposeFix(input, wants);
    expect(first.changes.map((c) => c.kind).sort()).toEqual(['add-label', 'qualify-image', 'remove-version']);
    // the second run's wants come from a check of the fixed file: the label is right now, so no label want
    const second = planComposeFix(first.text, { ...wants, labels: [] });
    expect(second.text).toBe(first.text);
    expect(second.changes).toEqual([]);
    expect(parseDocument(first.text).toJS()).toEqual({ services: { web: { image: 'docker.io/library/nginx', labels: ['a=b', 'PODMAN_SYSTEMD_UNIT=app.service'] } } });
  });

  it('changes nothing when nothing is wanted', () => {
    const input = 'services:\n  web:\n    image: nginx\n';
    expect(planComposeFix(input, none)).toEqual({ text: input, changes: [], manual: [] });
  });
});

describe('qualifyImage', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['library/nginx', 'docker.io/library/nginx'],
    ['immich-app/immich-server:release', 'docker.io/immich-app/immich-server:release'],
    ['docker.io/library/nginx', undefined],
    ['localhost/busybox:lab', undefined],
    ['${IMAGE}', undefined],
  ])('%s -> %s', (ref, out) => expect(qualifyImage(ref)).toBe(out));
});

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => expect(unifiedDiff('f', 'a\n', 'a\n')).toBe(''));
  it('writes diff -u hunks with 3 lines of context', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    const after = 'a\nb\nc\nd\nX\ne\nf\ng\nh\n';
    expect(unifiedDiff('f.yml', before, after)).toBe('--- f.yml\n+++ f.yml\n@@ -2,6 +2,7 @@\n b\n c\n d\n+X\n e\n f\n g\n');
  });
  it('shows a removal before an insertion and joins near changes', () => {
    expect(unifiedDiff('f', 'v\na\nb\n', 'a\nb\nc\n')).toBe('--- f\n+++ f\n@@ -1,3 +1,3 @@\n-v\n a\n b\n+c\n');
  });
  it('writes an empty range as the line before it', () => {
    expect(unifiedDiff('f', '', 'a\n')).toBe('--- f\n+++ f\n@@ -0,0 +1 @@\n+a\n');
  });
});
