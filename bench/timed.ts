// Wraps an adapter so every method call is reported with its start and end (performance.now() ms): the benches
// that look inside one converge (profile-up.ts, timeline.ts) time the real adapters this way.
export function timed<T extends object>(target: T, onCall: (method: string, args: unknown[], startMs: number, endMs: number) => void): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      const v: unknown = Reflect.get(t, key, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const out: unknown = (v as (...a: unknown[]) => unknown).apply(t, args);
        const record = () => onCall(String(key), args, t0, performance.now());
        if (out instanceof Promise) return out.finally(record);
        record();
        return out;
      };
    },
  });
}
