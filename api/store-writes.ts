// The API's store, with its writes to apps, fns and triggers told to the invoke lookups: nothing
// read while one is under way is kept, and what is held goes when it ends. Here rather than on
// the HTTP answer: a write whose caller has gone goes on, and commits after the answer's events.
// A committed update or delete of a fn or app is told to the agent too, whose containers made
// for what it was retire then rather than at their idle timeout (a rotated secret stayed on the
// host, in a paused container, for up to an hour).
import type { App, Fn, Store } from '../store/types.js';
import type { ContainerRetirer } from './deps.js';

/** The Store methods that change what an invoke looks up. */
const WRITES: ReadonlySet<PropertyKey> = new Set<keyof Store>([
  'insertApp', 'updateApp', 'deleteApp', 'insertFn', 'updateFn', 'deleteFn', 'insertTrigger', 'updateTrigger', 'deleteTrigger',
]);

export interface WriteWatcher {
  /** A write begins; the function returned says it has ended (settled either way). */
  beginWrite(): () => void;
}

/** Tells `retirer` what a committed write of `method` did to a fn or an app (by the Store's signatures). */
function tell(retirer: ContainerRetirer, method: PropertyKey, args: unknown[], result: unknown): void {
  switch (method) {
    case 'updateFn':
      return retirer.fnUpdated(result as Fn);
    case 'deleteFn':
      return retirer.fnDeleted(args[0] as string);
    case 'updateApp':
      return retirer.appUpdated(result as App);
    case 'deleteApp':
      return retirer.appDeleted(args[0] as string);
  }
}

export function watchedWrites(store: Store, watcher: WriteWatcher, retirer?: ContainerRetirer): Store {
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
              const result = await f.apply(target, args);
              if (retirer) tell(retirer, prop, args, result);
              return result;
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
