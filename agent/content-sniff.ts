// Go's http.DetectContentType: the type Go's net/http gives Fn's answers whose function set
// none, from their first 512 bytes (the WHATWG MIME sniffing algorithm's table, as Go
// implements it). Pure; a table-driven test covers it.

const SNIFF_LEN = 512;
const HTML_TYPE = 'text/html; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const BINARY_TYPE = 'application/octet-stream';

type Sig = (data: Buffer, firstNonWS: number) => string | undefined;

const isWS = (b: number): boolean => b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d || b === 0x20;
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function exact(pattern: string, type: string): Sig {
  const pat = bytes(pattern);
  return (data) => (data.length >= pat.length && data.subarray(0, pat.length).equals(pat) ? type : undefined);
}

function masked(mask: string, pattern: string, type: string, skipWS = false): Sig {
  const m = bytes(mask);
  const pat = bytes(pattern);
  return (data, firstNonWS) => {
    const d = skipWS ? data.subarray(firstNonWS) : data;
    if (d.length < pat.length) return undefined;
    for (let i = 0; i < pat.length; i++) if ((d[i]! & m[i]!) !== pat[i]) return undefined;
    return type;
  };
}

/** An HTML tag (case-insensitive, after white space) followed by a space or `>`. */
function html(tag: string): Sig {
  const pat = bytes(tag);
  return (data, firstNonWS) => {
    const d = data.subarray(firstNonWS);
    if (d.length < pat.length + 1) return undefined;
    for (let i = 0; i < pat.length; i++) {
      const b = pat[i]!;
      const db = b >= 0x41 && b <= 0x5a ? d[i]! & 0xdf : d[i]!;
      if (db !== b) return undefined;
    }
    const next = d[pat.length];
    return next === 0x20 || next === 0x3e ? HTML_TYPE : undefined;
  };
}

/** An ISO base media file whose major or compatible brands include `mp4`. */
const mp4: Sig = (data) => {
  if (data.length < 12) return undefined;
  const boxSize = data.readUInt32BE(0);
  if (data.length < boxSize || boxSize % 4 !== 0 || data.toString('latin1', 4, 8) !== 'ftyp') return undefined;
  for (let st = 8; st < boxSize; st += 4) {
    if (st === 12) continue; // the minor version
    if (data.toString('latin1', st, st + 3) === 'mp4') return 'video/mp4';
  }
  return undefined;
};

/** Text: no byte that a text file would not hold. */
const text: Sig = (data, firstNonWS) => {
  for (let i = firstNonWS; i < data.length; i++) {
    const b = data[i]!;
    if (b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)) return undefined;
  }
  return TEXT_TYPE;
};

const FF4 = '\xFF\xFF\xFF\xFF';
const RIFF_MASK = `${FF4}\x00\x00\x00\x00${FF4}`;

/** Go's table, in its order (the first match wins). */
const SIGNATURES: readonly Sig[] = [
  ...['<!DOCTYPE HTML', '<HTML', '<HEAD', '<SCRIPT', '<IFRAME', '<H1', '<DIV', '<FONT', '<TABLE', '<A', '<STYLE', '<TITLE', '<B', '<BODY', '<BR', '<P', '<!--'].map(html),
  masked('\xFF\xFF\xFF\xFF\xFF', '<?xml', 'text/xml; charset=utf-8', true),
  exact('%PDF-', 'application/pdf'),
  exact('%!PS-Adobe-', 'application/postscript'),
  masked('\xFF\xFF\x00\x00', '\xFE\xFF\x00\x00', 'text/plain; charset=utf-16be'),
  masked('\xFF\xFF\x00\x00', '\xFF\xFE\x00\x00', 'text/plain; charset=utf-16le'),
  masked('\xFF\xFF\xFF\x00', '\xEF\xBB\xBF\x00', TEXT_TYPE),
  exact('\x00\x00\x01\x00', 'image/x-icon'),
  exact('\x00\x00\x02\x00', 'image/x-icon'),
  exact('BM', 'image/bmp'),
  exact('GIF87a', 'image/gif'),
  exact('GIF89a', 'image/gif'),
  masked(`${RIFF_MASK}\xFF\xFF`, 'RIFF\x00\x00\x00\x00WEBPVP', 'image/webp'),
  exact('\x89PNG\x0D\x0A\x1A\x0A', 'image/png'),
  exact('\xFF\xD8\xFF', 'image/jpeg'),
  masked(RIFF_MASK, 'FORM\x00\x00\x00\x00AIFF', 'audio/aiff'),
  masked('\xFF\xFF\xFF', 'ID3', 'audio/mpeg'),
  masked('\xFF\xFF\xFF\xFF\xFF', 'OggS\x00', 'application/ogg'),
  masked(`${FF4}${FF4}`, 'MThd\x00\x00\x00\x06', 'audio/midi'),
  masked(RIFF_MASK, 'RIFF\x00\x00\x00\x00AVI ', 'video/avi'),
  masked(RIFF_MASK, 'RIFF\x00\x00\x00\x00WAVE', 'audio/wave'),
  mp4,
  exact('\x1A\x45\xDF\xA3', 'video/webm'),
  masked(`${'\x00'.repeat(34)}\xFF\xFF`, `${'\x00'.repeat(34)}LP`, 'application/vnd.ms-fontobject'),
  exact('\x00\x01\x00\x00', 'font/ttf'),
  exact('OTTO', 'font/otf'),
  exact('ttcf', 'font/collection'),
  exact('wOFF', 'font/woff'),
  exact('wOF2', 'font/woff2'),
  exact('\x1F\x8B\x08', 'application/x-gzip'),
  exact('PK\x03\x04', 'application/zip'),
  exact('Rar!\x1A\x07\x00', 'application/x-rar-compressed'),
  exact('Rar!\x1A\x07\x01\x00', 'application/x-rar-compressed'),
  exact('\x00\x61\x73\x6D', 'application/wasm'),
  text,
];

/** Go's http.DetectContentType. */
export function detectContentType(body: Buffer): string {
  const data = body.length > SNIFF_LEN ? body.subarray(0, SNIFF_LEN) : body;
  let firstNonWS = 0;
  while (firstNonWS < data.length && isWS(data[firstNonWS]!)) firstNonWS++;
  for (const sig of SIGNATURES) {
    const type = sig(data, firstNonWS);
    if (type !== undefined) return type;
  }
  return BINARY_TYPE;
}

/** The first `n` bytes of an answer held in chunks (for sniffing, without joining them all). */
export function headOf(chunks: readonly Buffer[], n = SNIFF_LEN): Buffer {
  if (chunks.length === 1 || (chunks[0]?.length ?? 0) >= n) return chunks[0]?.subarray(0, n) ?? Buffer.alloc(0);
  const parts: Buffer[] = [];
  let size = 0;
  for (const c of chunks) {
    if (size >= n) break;
    parts.push(c);
    size += c.length;
  }
  return Buffer.concat(parts, size).subarray(0, n);
}
