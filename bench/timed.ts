// The benches' adapter timer: the same object, every method call (sync or async) timed into a list.

export interface TimedCall { port: string; method: string; ms: number }

/** `target` behind a proxy that pushes {port, method, ms} into `calls` as each of its method calls ends. */
export function timed<T extends object>(calls: TimedCall[], port: string, target: T): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      const v: unknown = Reflect.get(t, key, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const out: unknown = (v as (...a: unknown[]) => unknown).apply(t, args);
        const record = () => calls.push({ port, method: String(key), ms: performance.now() - t0 });
        if (out instanceof Promise) return out.finally(record);
        record();
        return out;
      };
    },
  });
}
