// `stackctl import`: a draft stackd config from what the host already runs. Pure: the caller hands in the
// label sets of the containers (podman) and/or directories holding a compose file; this groups them by
// compose project and writes YAML text in which every guess carries a comment for the human to confirm.
// `project:` stays equal to the running project so compose finds its volumes and networks again.
import { STACK_NAME_PATTERN, UNIT_NAME_PATTERN, validateStackName } from './stack-name.js';
import { UNIT_LABEL } from './preflight.js';

export const PROJECT_LABELS = ['com.docker.compose.project', 'io.podman.compose.project'] as const;
const CONFIG_FILES = 'com.docker.compose.project.config_files';
const WORKING_DIR = 'com.docker.compose.project.working_dir';
const ENV_FILE = 'com.docker.compose.project.environment_file';

export interface ImportSource {
  /** one container's labels */
  labels?: Readonly<Record<string, string>>;
  /** or a directory and the compose file found in it */
  dir?: { path: string; composeFile: string };
}

export interface DraftStack {
  name: string;
  project: string;
  compose: string[];
  envFiles: string[];
  unit?: string;
  /** what was guessed, one sentence each */
  guesses: string[];
}

export function draftStacks(sources: readonly ImportSource[]): DraftStack[] {
  const byProject = new Map<string, DraftStack>();
  for (const src of sources) {
    if (src.dir) {
      const project = projectFromDir(src.dir.path);
      if (!byProject.has(project)) {
        byProject.set(project, {
          name: stackName(project), project, compose: [src.dir.composeFile], envFiles: [],
          guesses: ['project from the directory name, as compose derives it'],
        });
      }
      continue;
    }
    const labels = src.labels ?? {};
    const project = PROJECT_LABELS.map((k) => labels[k]).find((v) => v !== undefined && v !== '');
    if (project === undefined) continue;
    let stack = byProject.get(project);
    if (!stack) {
      stack = { name: stackName(project), project, compose: [], envFiles: [], guesses: [] };
      byProject.set(project, stack);
    }
    const dir = labels[WORKING_DIR];
    for (const f of splitList(labels[CONFIG_FILES])) addOnce(stack.compose, absolute(f, dir));
    for (const f of splitList(labels[ENV_FILE])) addOnce(stack.envFiles, absolute(f, dir));
    const unit = labels[UNIT_LABEL];
    if (unit !== undefined && stack.unit === undefined) {
      const perStack = /^podman-compose@(.+)\.service$/.exec(unit);
      const candidate = perStack ? `${perStack[1] ?? ''}.service` : unit;
      if (UNIT_NAME_PATTERN.test(candidate)) {
        stack.unit = candidate;
        if (perStack) stack.guesses.push(`unit from ${UNIT_LABEL}=${unit} (the per-stack template unit becomes ${candidate})`);
      }
    }
  }
  const out = [...byProject.values()];
  for (const s of out) {
    if (s.compose.length === 0) s.guesses.push('no compose file label: set compose by hand');
    if (s.name !== s.project) s.guesses.push(`stack name derived from project "${s.project}"`);
    if (s.unit === `${s.name}.service`) delete s.unit;
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The draft as YAML text (strings JSON-quoted, which YAML reads as double-quoted scalars). */
export function renderDraftConfig(stacks: readonly DraftStack[]): string {
  const lines = ['# draft by `stackctl import`: check every line marked "guess", then validate with `stackd --check-config`', 'stacks:'];
  if (stacks.length === 0) return `${lines[0] ?? ''}\n# no compose projects found\nstacks: []\n`;
  for (const s of stacks) {
    for (const g of s.guesses) lines.push(`  # guess: ${g}`);
    lines.push(`  - name: ${s.name}`);
    lines.push(`    project: ${s.project}  # the compose project as it runs now: keeps its volumes and networks`);
    if (s.unit !== undefined) lines.push(`    unit: ${s.unit}`);
    lines.push(`    compose: [${s.compose.map((f) => JSON.stringify(f)).join(', ')}]`);
    if (s.envFiles.length > 0) lines.push(`    envFiles: [${s.envFiles.map((f) => JSON.stringify(f)).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

function stackName(project: string): string {
  const name = project.toLowerCase().replace(/[^a-z0-9_-]/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63) || 'stack';
  return STACK_NAME_PATTERN.test(name) && validateStackName(name) === undefined ? name : `stack-${name}`.slice(0, 63);
}

/** compose's default project name: the directory's base name, lower-cased, other characters dropped */
function projectFromDir(dir: string): string {
  const base = dir.replace(/\/+$/, '').split('/').pop() ?? '';
  return base.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '') || 'default';
}

function splitList(v: string | undefined): string[] {
  return v === undefined ? [] : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function absolute(file: string, dir: string | undefined): string {
  return file.startsWith('/') || dir === undefined ? file : `${dir.replace(/\/+$/, '')}/${file}`;
}

function addOnce(list: string[], v: string): void {
  if (!list.includes(v)) list.push(v);
}
