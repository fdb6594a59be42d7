// Text cut to a length in UTF-16 units (JavaScript's string length) between characters: a cut
// through a surrogate pair left half an emoji, which no backend stores as it is (SQLite stored
// three U+FFFD, the others one) and which is not text. Pure; a table-driven test covers it.

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
/** Whether `at` falls between the two halves of a surrogate pair. */
const inPair = (text: string, at: number): boolean => at > 0 && isHigh(text.charCodeAt(at - 1)) && isLow(text.charCodeAt(at));

/** The start of `text`, at most `max` units, one fewer rather than half a pair. */
export function headOf(text: string, max: number): string {
  if (text.length <= max) return text;
  return text.slice(0, inPair(text, max) ? max - 1 : max);
}

/** The end of `text`, at most `max` units, one fewer rather than half a pair. */
export function tailOf(text: string, max: number): string {
  if (text.length <= max) return text;
  const from = text.length - max;
  return text.slice(inPair(text, from) ? from + 1 : from);
}

/** `text` whole when at most head + tail units long, else its head and its tail around `between`. */
export function headAndTail(text: string, head: number, tail: number, between: string): string {
  return text.length > head + tail ? `${headOf(text, head)}${between}${tailOf(text, tail)}` : text;
}
