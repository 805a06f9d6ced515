// The registry client, loaded on its first use. Only an update check talks to registries, and the client's
// modules (undici, the auth files and credential helpers, registries.conf with smol-toml) cost an idle daemon
// several MB of resident memory it would never use between update runs (bench/README.md "Idle footprint").
// So the composition root hands the pipeline this stand-in, and the real client is imported and built the first
// time a manifest is asked for; from then on it is that client, with its memory and its connections.
import type { ImageRef, ManifestDoc, ManifestHead } from '../core/update/types.js';
import type { RegistryPort } from '../supervisor/ports.js';

/** What the stand-in needs of the real client. */
export interface ClosableRegistry extends RegistryPort {
  close(): Promise<void>;
}

/** A RegistryPort that calls `load` once, on the first head() or get(); close() closes the client only if it was built. */
export function lazyRegistry(load: () => Promise<ClosableRegistry>): ClosableRegistry {
  let client: Promise<ClosableRegistry> | undefined;
  const real = () => (client ??= load());
  return {
    head: async (ref: ImageRef): Promise<ManifestHead> => (await real()).head(ref),
    get: async (ref: ImageRef, reference: string): Promise<ManifestDoc> => (await real()).get(ref, reference),
    async close(): Promise<void> {
      if (client) await (await client).close();
    },
  };
}
