// Imported FIRST by src/main.ts (before anything loads dockerode): dockerode and docker-modem require at load
// time the modules of transports stackd never uses: docker-modem's lib/ssh.js requires ssh2 (for ssh://
// hosts; ssh2 allocates a 16 MB WebAssembly memory for poly1305 at load), dockerode's lib/session.js requires
// @grpc/grpc-js and @grpc/proto-loader (BuildKit sessions). stackd always talks to podman over a unix socket, so
// those requires get a stub instead: measured on the idle daemon, 4 MB less V8 heap and 16.7 MB less
// external memory (bench/README.md "Idle footprint"). The stub loads without error (docker-modem reads
// `require('ssh2').Client` at load) and throws a clear error if anything ever calls into it.
import { registerHooks } from 'node:module';

/** specifier → the package whose files require it; only those requires are stubbed */
const UNUSED: Record<string, string> = {
  'ssh2': '/node_modules/docker-modem/',
  '@grpc/grpc-js': '/node_modules/dockerode/',
  '@grpc/proto-loader': '/node_modules/dockerode/',
};
export const STUB_SCHEME = 'stackd-omitted:';
export const OMITTED_MESSAGE = 'stackd talks to podman over a unix socket; the ssh and grpc transports of dockerode are not included';

/** CommonJS source of a stub: any property is a function that throws (so reading `.Client` at load works). */
function stubSource(specifier: string): string {
  const message = JSON.stringify(`${OMITTED_MESSAGE} (${specifier})`);
  return `const fail = function () { throw new Error(${message}); };
module.exports = new Proxy(fail, { get: (_, key) => (key === '__esModule' ? false : fail), apply: fail, construct: fail });`;
}

registerHooks({
  resolve(specifier, context, nextResolve) {
    const from = UNUSED[specifier];
    if (from !== undefined && context.parentURL?.includes(from)) {
      return { url: `${STUB_SCHEME}${specifier}`, format: 'commonjs', shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (url.startsWith(STUB_SCHEME)) {
      return { format: 'commonjs', source: stubSource(url.slice(STUB_SCHEME.length)), shortCircuit: true };
    }
    return nextLoad(url, context);
  },
});
