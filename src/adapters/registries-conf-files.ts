// Which registries podman reaches over plain http, read from the user's registries.conf files (core's
// registries-conf.ts decides): the main file (the user's when it exists, else /etc's), then the drop-ins of
// /etc/containers/registries.conf.d and ~/.config/containers/registries.conf.d, *.conf in name order.
// Read on every question: a few small files, and an edit is seen at once, as podman sees it.
import { readIfExists } from './atomic-file.js';
import { readdir } from 'node:fs/promises';
import {
  isInsecureRegistry, mergeRegistriesConf, parseRegistriesConf, registriesConfPaths,
} from '../core/registry/registries-conf.js';
import type { RegistriesConfEnv, RegistryConfEntry } from '../core/registry/registries-conf.js';
import { RegistryError } from './errors.js';

export interface RegistriesConfFilesOptions {
  env: RegistriesConfEnv;
  /** file contents, or null when the file does not exist. Default: node:fs. */
  readText?: (path: string) => Promise<string | null>;
  /** names in a directory, or [] when it does not exist. Default: node:fs. */
  listDir?: (path: string) => Promise<string[]>;
}

export class RegistriesConfFiles {
  private readonly env: RegistriesConfEnv;
  private readonly readText: (path: string) => Promise<string | null>;
  private readonly listDir: (path: string) => Promise<string[]>;

  constructor(opts: RegistriesConfFilesOptions) {
    this.env = opts.env;
    this.readText = opts.readText ?? readTextFile;
    this.listDir = opts.listDir ?? listDirectory;
  }

  /** true when podman talks plain http to this registry for this repository (insecure = true). */
  async isInsecure(registry: string, repository: string): Promise<boolean> {
    return isInsecureRegistry(await this.entries(registry), registry, repository);
  }

  /** `registry` only names the registry in a RegistryError when a file cannot be read. */
  async entries(registry: string): Promise<RegistryConfEntry[]> {
    const configHome = this.env.XDG_CONFIG_HOME || (this.env.HOME ? `${this.env.HOME}/.config` : undefined);
    const userFile = configHome ? `${configHome}/containers/registries.conf` : undefined;
    const userText = userFile ? await this.read(registry, userFile) : null;
    const { main, dropInDirs } = registriesConfPaths(this.env, userText !== null);
    const layers: RegistryConfEntry[][] = [];
    const mainText = main === userFile ? userText : await this.read(registry, main);
    if (mainText !== null) layers.push(this.parse(registry, mainText, main));
    for (const dir of dropInDirs) {
      const names = (await this.list(registry, dir)).filter((n) => n.endsWith('.conf')).sort();
      for (const name of names) {
        const file = `${dir}/${name}`;
        const text = await this.read(registry, file);
        if (text !== null) layers.push(this.parse(registry, text, file));
      }
    }
    return mergeRegistriesConf(layers);
  }

  private parse(registry: string, text: string, file: string): RegistryConfEntry[] {
    const parsed = parseRegistriesConf(text, file);
    if (!Array.isArray(parsed)) throw new RegistryError(registry, 'config', parsed.error);
    return parsed;
  }

  private async list(registry: string, dir: string): Promise<string[]> {
    try {
      return await this.listDir(dir);
    } catch (err) {
      throw new RegistryError(registry, 'config', `cannot list ${dir} (${codeOf(err)}); podman cannot either: fix its permissions`, { cause: err });
    }
  }

  private async read(registry: string, file: string): Promise<string | null> {
    try {
      return await this.readText(file);
    } catch (err) {
      throw new RegistryError(registry, 'config', `cannot read ${file} (${codeOf(err)}); podman cannot either: fix its permissions`, { cause: err });
    }
  }
}

async function readTextFile(path: string): Promise<string | null> {
  return (await readIfExists(path)) ?? null;
}

async function listDirectory(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return [];
    throw err;
  }
}

function codeOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : String(err);
}
