// `node --experimental-transform-types --import <this file> src/cli/stackctl.ts ...`: runs stackctl from its
// sources and, at exit, writes to the file named by STACKCTL_LOAD_LOG every module its imports resolved to and
// node's own modules loaded by then (process.moduleLoadList: built-ins taken with process.getBuiltinModule pass
// no resolve hook). Built-ins come from getBuiltinModule here too, so this file loads nothing stackctl would not.
const { registerHooks } = process.getBuiltinModule('node:module');
const { existsSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { fileURLToPath } = process.getBuiltinModule('node:url');

const log = process.env.STACKCTL_LOAD_LOG;
if (!log) throw new Error('record-loads: set STACKCTL_LOAD_LOG');
const resolved: string[] = [];

registerHooks({
  resolve(specifier, context, nextResolve) {
    // the sources import './x.js' for './x.ts' (what tsc compiles it to); node runs the .ts itself
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (existsSync(fileURLToPath(ts))) specifier = ts.href;
    }
    const result = nextResolve(specifier, context);
    resolved.push(result.url);
    return result;
  },
});

process.on('exit', () => {
  const builtins = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  writeFileSync(log, JSON.stringify({ resolved, builtins }));
});
