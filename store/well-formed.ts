// Strings an older Kiln stored before the API refused lone UTF-16 surrogates ("k\ud800" in a
// config key or value): JSON.stringify kept them as escapes, so every backend holds them, but
// they cannot leave Kiln as UTF-8 (a container's environment, the engine's URL-encoded query,
// a JSON answer), nor be named in a request to delete them. Read back, each lone surrogate is
// U+FFFD, as Fn's decoder makes it: calls work, and a PUT naming the key with U+FFFD deletes it.

/** `value` with every string in it, keys included, made well-formed (lone surrogates become U+FFFD). */
export function wellFormed<T>(value: T): T {
  if (typeof value === 'string') return value.toWellFormed() as T;
  if (Array.isArray(value)) return value.map((v: unknown) => wellFormed(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  // fromEntries makes own properties, so a key "__proto__" inside an annotation's value stays one.
  // Two keys that differ only in their lone surrogates become one; the later one's value stays.
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toWellFormed(), wellFormed(v)])) as T;
}
