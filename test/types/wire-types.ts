// Compile-time guard (checked by `npm run typecheck`; nothing runs): the answer shapes the API's
// clients read (api/contract/wire-types.ts, written by hand because cli/ and web/ may not import
// store/) are what the server actually sends. The routes (api/routes/*.ts) answer with the store's
// records as they are, through res.json (fns and triggers via api/annotate.ts, which only adds
// annotations and returns the same type), and lists through api/pagination.ts's listBody. So
// each wire type is its store type, except where a field is named below. A field added, dropped
// or retyped on either side stops the typecheck here.
import type * as wire from '../../api/contract/wire-types.js';
import type { ListBody } from '../../api/pagination.js';
import type * as store from '../../store/types.js';

/** True only for identical types (optional and readonly modifiers included). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Assert<T extends true> = T;
/** One object type, so that an intersection compares equal to the same fields written out. */
type Flat<T> = { [K in keyof T]: T[K] };
/**
 * T with fields K typed as plain strings (modifiers kept): the store's closed sets (FnFormat,
 * CallStatus) that clients read as any string, so that a newer server's value breaks no client.
 */
type WithStrings<T, K extends keyof T> = Flat<Omit<T, K> & { [P in keyof Pick<T, K>]: string }>;

export type AppIsStored = Assert<Equal<wire.App, store.App>>;
export type FnIsStored = Assert<Equal<wire.Fn, WithStrings<store.Fn, 'format'>>>;
export type TriggerIsStored = Assert<Equal<wire.Trigger, store.Trigger>>;
export type CallStatIsStored = Assert<Equal<wire.CallStat, store.CallStat>>;
export type CallIsStored = Assert<Equal<wire.Call, WithStrings<store.Call, 'status'>>>;
/** A list's answer is listBody's (items and next_cursor), not the store's Page (items and last). */
export type PageIsListBody = Assert<Equal<wire.Page<wire.App>, ListBody<wire.App>>>;

// The widened fields are strings on the store's side too: widening, never another type.
export type FormatIsString = Assert<store.Fn['format'] extends string ? true : false>;
export type StatusIsString = Assert<store.Call['status'] extends string ? true : false>;
