// The API's store, with its writes to apps, fns and triggers told to the invoke lookups: nothing
// read while one is under way is kept, and what is held goes when it ends. Here rather than on
// the HTTP answer: a write whose caller has gone goes on, and commits after the answer's events.
import type { Store } from '../store/types.js';

/** The Store methods that change what an invoke looks up. */
const WRITES: ReadonlySet<PropertyKey> = new Set<keyof Store>([
  'insertApp', 'updateApp', 'deleteApp', 'insertFn', 'updateFn', 'deleteFn', 'insertTrigger', 'updateTrigger', 'deleteTrigger',
]);

export interface WriteWatcher {
  /** A write begins; the function returned says it has ended (settled either way). */
  beginWrite(): () => void;
}

export function watchedWrites(store: Store, watcher: WriteWatcher): Store {
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      let m = methods.get(prop);
      if (m === undefined) {
        const f = v as (...args: unknown[]) => unknown;
        m = WRITES.has(prop)
          ? async (...args: unknown[]): Promise<unknown> => {
            const end = watcher.beginWrite();
            try {
              return await f.apply(target, args);
            } finally {
              end();
            }
          }
          : f.bind(target);
        methods.set(prop, m);
      }
      return m;
    },
  });
}
