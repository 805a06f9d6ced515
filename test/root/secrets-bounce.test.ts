// The secrets bounce, run for real (the one test tier that runs as root, as a system unit would): the shipped
// systemd/example-secrets.service, its names changed to the lab user and a test stack and its `sops --decrypt`
// replaced by a stand-in that prints a plain file, has its ExecStart/ExecStartPost lines executed one by one
// as root (argv, as systemd would split them; no system manager in the lab). stackd runs as the lab user under
// its systemd user manager with the stack's thin unit active. Shown: the data dir and the env file (0600) are
// the user's, the env file holds the new value, and the bounce caused exactly one reconcile of the stack.
import { chmod, chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_USER as USER, REPO, asLab, get as getOn, run, waitFor } from './lab.js';

const STACK = 'sbounce';

/** systemd's command-line splitting, as far as the shipped unit uses it: words, and '…' quoted words. */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2] ?? '');
  return out;
}

let uid = 0;
let gid = 0;
let stage = '';
let dir = '';
let sock = '';
let unitDir = '';

const get = (path: string) => getOn(sock, path);

async function reconciles(): Promise<number> {
  const { body } = await get('/metrics');
  return body.split('\n').filter((l) => l.startsWith(`stackd_reconcile_total{stack="${STACK}"`))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}

beforeAll(async () => {
  uid = Number((await run(['id', '-u', USER])).stdout.trim());
  gid = Number((await run(['id', '-g', USER])).stdout.trim());
  stage = (await run(['bash', join(REPO, 'test/lab/stage.sh')])).stdout.trim();
  dir = await mkdtemp(join(stage, 'bounce-'));
  await chown(dir, uid, gid);
  sock = join(dir, 'api.sock');
  const home = (await run(['getent', 'passwd', USER])).stdout.split(':')[5] ?? '';
  unitDir = join(home, '.config/systemd/user');
  const envFile = `/run/user/${uid}/secrets/${STACK}.env`;
  await writeFile(join(dir, 'compose.yml'), `services:
  app:
    image: localhost/busybox:lab
    command: ["sleep", "1000000"]
    init: true
    labels:
      PODMAN_SYSTEMD_UNIT: ${STACK}.service
`);
  await writeFile(join(dir, 'stackd.yaml'), `podman:
  socket: /run/user/${uid}/podman/podman.sock
api:
  socket: ${sock}
stateFile: ${join(dir, 'state.json')}
defaults:
  envWait: 2s
stacks:
  - { name: ${STACK}, compose: [${join(dir, 'compose.yml')}], envFiles: [${envFile}] }
`);
  // the secrets as the previous boot left them
  await asLab('install', '-d', '-m', '0700', `/run/user/${uid}/secrets`);
  await asLab('sh', '-c', `umask 077; echo TOKEN=old > ${envFile}`);
  for (const f of ['compose.yml', 'stackd.yaml']) await chown(join(dir, f), uid, gid);
  // stackd as a transient user service; the stack's thin unit as the user's own
  await asLab('systemd-run', '--user', '--unit', 'sbounce-stackd', '--collect', process.execPath, join(stage, 'dist/main.js'), '--config', join(dir, 'stackd.yaml'));
  await waitFor(async () => (await get('/healthz')).status === 200, 30_000, 'stackd');
  const ctl = `${process.execPath} ${join(stage, 'dist/cli/stackctl.js')} --socket ${sock}`;
  await asLab('mkdir', '-p', unitDir);
  const unit = join(unitDir, `${STACK}.service`);
  await writeFile(unit, `[Unit]\nDescription=secrets-bounce test stack\n[Service]\nType=oneshot\nRemainAfterExit=yes\n` +
    `ExecStart=${ctl} up ${STACK}\nExecReload=${ctl} up ${STACK}\nExecStop=${ctl} stop ${STACK}\n`);
  await chown(unit, uid, gid);
  await asLab('systemctl', '--user', 'daemon-reload');
  await asLab('systemctl', '--user', 'start', `${STACK}.service`);
  await waitFor(async () => JSON.parse((await get(`/v1/stacks/${STACK}`)).body).state === 'converged', 120_000, 'the stack to converge');
}, 300_000);

afterAll(async () => {
  await asLab('systemctl', '--user', 'stop', `${STACK}.service`).catch(() => undefined);
  await rm(join(unitDir, `${STACK}.service`), { force: true });
  await asLab('systemctl', '--user', 'daemon-reload').catch(() => undefined);
  await asLab('systemctl', '--user', 'stop', 'sbounce-stackd').catch(() => undefined);
  const ids = (await asLab('podman', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${STACK}`).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
  if (ids.length) await asLab('podman', 'rm', '-f', '-t', '0', ...ids).catch(() => undefined);
  await asLab('podman', 'network', 'rm', '-f', `${STACK}_default`).catch(() => undefined);
  await rm(`/run/user/${uid}/secrets/${STACK}.env`, { force: true });
  if (stage) await rm(stage, { recursive: true, force: true });
}, 120_000);

describe('the shipped secrets unit, run as root', () => {
  it('makes the data dir and the 0600 env file the user\'s, and bounces the stack into exactly one reconcile', async () => {
    const plain = join(dir, 'decrypted.env');
    await writeFile(plain, 'TOKEN=new\n');
    await chmod(plain, 0o600);
    const dataDir = join(dir, 'data');
    const shipped = await readFile(join(REPO, 'systemd/example-secrets.service'), 'utf8');
    const text = shipped
      .replaceAll('sops --decrypt /etc/stacks/example.env.sops', `cat ${plain}`)
      .replaceAll('/srv/stacks/example/data', dataDir)
      .replaceAll('alice', USER)
      .replaceAll('/run/user/1000', `/run/user/${uid}`)
      .replaceAll('user@1000', `user@${uid}`)
      .replaceAll('example', STACK);
    const lines = text.split('\n').filter((l) => /^Exec(Start|StartPost)=/.test(l)).map((l) => l.slice(l.indexOf('=') + 1));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.at(-1)).toContain(`systemctl --user reload-or-restart --no-block ${STACK}.service`);

    const before = await reconciles();
    for (const line of lines) await run(splitCommandLine(line));

    const env = await stat(`/run/user/${uid}/secrets/${STACK}.env`);
    expect({ uid: env.uid, mode: env.mode & 0o777 }).toEqual({ uid, mode: 0o600 });
    expect(await readFile(`/run/user/${uid}/secrets/${STACK}.env`, 'utf8')).toBe('TOKEN=new\n');
    const data = await stat(dataDir);
    expect({ uid: data.uid, dir: data.isDirectory() }).toEqual({ uid, dir: true });

    await waitFor(async () => (await reconciles()) > before, 60_000, 'the reconcile the bounce asked for');
    await new Promise((r) => setTimeout(r, 4000)); // a second one would come now
    expect(await reconciles()).toBe(before + 1);
    expect(JSON.parse((await get(`/v1/stacks/${STACK}`)).body).state).toBe('converged');
  });
});
