// How much of a log's raw bytes fits a byte cap once stored. The store keeps text: a byte that is
// not UTF-8 decodes to U+FFFD (3 bytes), as does NUL (store/sql-store.ts's storableText), so a
// cap counted in raw bytes could store three times its size. Pure; a table-driven test covers it.

/** U+FFFD's size in UTF-8. */
const REPLACEMENT_BYTES = 3;

/**
 * One step of UTF-8 decoding at `i`, as TextDecoder and Buffer#toString take it: a valid
 * character, or a maximal invalid subpart (one U+FFFD). Its raw length and its stored size.
 */
function step(raw: Uint8Array, i: number): { length: number; stored: number } {
  const b = raw[i]!;
  if (b === 0) return { length: 1, stored: REPLACEMENT_BYTES };
  if (b < 0x80) return { length: 1, stored: 1 };
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b === 0xe0) lo = 0xa0; // no overlong forms
    if (b === 0xed) hi = 0x9f; // no surrogates
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f; // nothing past U+10FFFF
  } else return { length: 1, stored: REPLACEMENT_BYTES };
  for (let k = 1; k <= need; k++) {
    const c = raw[i + k];
    if (c === undefined || c < lo || c > hi) return { length: k, stored: REPLACEMENT_BYTES };
    lo = 0x80;
    hi = 0xbf;
  }
  return { length: need + 1, stored: need + 1 };
}

/**
 * The length of the longest prefix of `raw` whose stored text (UTF-8, invalid bytes and NUL as
 * U+FFFD) is at most `maxBytes`. It ends between characters, so the prefix decodes to the
 * start of what the whole decodes to, never to a character cut in two.
 */
export function storedPrefix(raw: Uint8Array, maxBytes: number): number {
  let i = 0;
  let stored = 0;
  while (i < raw.length) {
    const s = step(raw, i);
    if (stored + s.stored > maxBytes) break;
    stored += s.stored;
    i += s.length;
  }
  return i;
}

/**
 * The length of `raw` without a character its end cut in two (the first bytes of a UTF-8
 * sequence that needs more): a cap that cut there dropped the rest, and those bytes alone would
 * be stored as U+FFFD where the output held a whole character.
 */
export function withoutCutCharacter(raw: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, raw.length); back++) {
    const b = raw[raw.length - back]!;
    if (b < 0x80) return raw.length;
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return back < need ? raw.length - back : raw.length;
    }
    // A continuation byte: its lead is further back.
  }
  return raw.length;
}
