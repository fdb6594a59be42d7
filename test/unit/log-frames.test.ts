import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameScanner, LOG_FRAME_HEADER, LOG_FRAME_NAME, logFrameEnv, logFrameName, MAX_FRAME_VALUE_BYTES, type FramePiece } from '../../agent/log-frames.js';
import type { App, Fn } from '../../store/types.js';

const ID = '01JABCDEFGHJKMNPQRSTVWXYZ0';

/** What a chunk gave: bytes as text, a frame as {id}. */
const shown = (pieces: FramePiece[]): string => pieces.map((p) => ('frame' in p ? `{${p.frame}}` : p.bytes.toString())).join('');

interface Case {
  name: string;
  chunks: string[];
  /** What each chunk gave, then what the flush gave. */
  out: string[];
}

const cases: Case[] = [
  { name: 'no frames: each chunk passes as it is', chunks: ['a\n', 'b', 'c\n'], out: ['a\n', 'b', 'c\n', ''] },
  {
    name: 'a frame mid-chunk: it and the newline before it are taken out',
    chunks: [`before\n\nkiln_call=${ID}\nafter\n`],
    out: [`before\n{${ID}}after\n`, ''],
  },
  { name: 'at the stream start, with its newline', chunks: [`\nkiln_call=${ID}\nx\n`], out: [`{${ID}}x\n`, ''] },
  { name: 'at the stream start, without its newline', chunks: [`kiln_call=${ID}\nx\n`], out: [`{${ID}}x\n`, ''] },
  { name: 'a line with no newline before the frame keeps its text', chunks: ['part', `\nkiln_call=A\nrest`], out: ['part', '{A}rest', ''] },
  {
    name: 'split inside the name: the end is held until the next chunk says',
    chunks: ['a\n\nkiln_c', `all=${ID}\nb\n`],
    out: ['a\n', `{${ID}}b\n`, ''],
  },
  { name: 'split inside the value', chunks: ['\nkiln_call=01J', 'X\nb'], out: ['', '{01JX}b', ''] },
  { name: 'split just before the closing newline', chunks: ['x\nkiln_call=A', '\ny'], out: ['x', '{A}y', ''] },
  {
    name: 'split after a lone newline: it passes at once, the frame still parses at the next line start',
    chunks: ['a\n', 'kiln_call=B\nb\n'],
    out: ['a\n', '{B}b\n', ''],
  },
  { name: 'a line start split inside the name', chunks: ['a\n', 'kiln', '_call=B\nb'], out: ['a\n', '', '{B}b', ''] },
  { name: 'two frames in one chunk', chunks: ['\nkiln_call=A\na\n\nkiln_call=B\nb\n'], out: ['{A}a\n{B}b\n', ''] },
  { name: 'a value that is not a ULID is a frame all the same', chunks: ['\nkiln_call=my id/1\nx'], out: ['{my id/1}x', ''] },
  { name: 'almost a frame: another name', chunks: ['\nkiln_calls=A\n\nkiln_cal=A\n'], out: ['\nkiln_calls=A\n\nkiln_cal=A\n', ''] },
  { name: 'almost a frame: not at a line start', chunks: ['x kiln_call=A\n'], out: ['x kiln_call=A\n', ''] },
  { name: 'almost a frame: no value', chunks: ['\nkiln_call=\nx'], out: ['\nkiln_call=\nx', ''] },
  {
    name: 'almost a frame: a value too long is a line like any other, passed on once it is known',
    chunks: [`\nkiln_call=${'v'.repeat(MAX_FRAME_VALUE_BYTES)}`, 'w', 'more\n'],
    out: ['', `\nkiln_call=${'v'.repeat(MAX_FRAME_VALUE_BYTES)}w`, 'more\n', ''],
  },
  { name: 'a held end that turns out not to be a frame is passed on with the next chunk', chunks: ['a\nkil', 'ometre\n'], out: ['a', '\nkilometre\n', ''] },
  { name: 'the stream ends on a held start: the flush passes it on', chunks: ['a\nkiln_call=A'], out: ['a', '\nkiln_call=A'] },
  { name: 'a chunk that is the start of the name at the stream start is held', chunks: ['kiln_', 'x\n'], out: ['', 'kiln_x\n', ''] },
];

for (const c of cases) {
  test(`frames: ${c.name}`, () => {
    const s = new FrameScanner(LOG_FRAME_NAME);
    const got = c.chunks.map((ch) => shown(s.scan(Buffer.from(ch))));
    got.push(s.flush()?.toString() ?? '');
    assert.deepEqual(got, c.out);
  });
}

test('frames: every split of a framed output gives the same bytes and frames', () => {
  const whole = `boot\n\nkiln_call=A\na1\na2\n\nkiln_call=B\n\nkiln_call=C\nc\n`;
  for (let i = 0; i <= whole.length; i++) {
    for (let j = i; j <= whole.length; j++) {
      const s = new FrameScanner(LOG_FRAME_NAME);
      const parts = [whole.slice(0, i), whole.slice(i, j), whole.slice(j)].map((p) => shown(s.scan(Buffer.from(p))));
      parts.push(s.flush()?.toString() ?? '');
      const text = parts.join('');
      const want = 'boot\n{A}a1\na2\n{B}{C}c\n';
      // A split right after the newline that precedes a frame leaves that newline in the output.
      const bare = (t: string) => t.replace(/\n+(?=\{)/g, '');
      assert.ok(text === want || (bare(text) === bare(want) && text.length - want.length <= 2), `split at ${i}, ${j}: ${JSON.stringify(text)}`);
    }
  }
});

test("frames: the raw bytes of a frame are the frame's own, its newline too", () => {
  const s = new FrameScanner('n');
  const pieces = s.scan(Buffer.from('a\n\nn=X\nb'));
  assert.deepEqual(pieces.map((p) => ('frame' in p ? p.raw.toString() : p.bytes.toString())), ['a\n', '\nn=X\n', 'b']);
});

const app = (fields: Partial<App> = {}): Pick<App, 'config' | 'syslog_url'> => ({ config: {}, ...fields });
const fn = (fields: Partial<Fn> = {}): Pick<Fn, 'config' | 'format'> => ({ config: {}, format: 'http-stream', ...fields });

test('frame env: an http-stream container is framed; Lambda, an app with a syslog_url, or the user\'s own framing is not', () => {
  const on = { FN_LOGFRAME_NAME: LOG_FRAME_NAME, FN_LOGFRAME_HDR: LOG_FRAME_HEADER };
  const rows: [string, Record<string, string>, Record<string, string>][] = [
    ['http-stream', logFrameEnv(app(), fn()), on],
    ['lambda', logFrameEnv(app(), fn({ format: 'lambda' })), {}],
    ['syslog_url', logFrameEnv(app({ syslog_url: 'tcp://logs:514' }), fn()), {}],
    ['blank syslog_url', logFrameEnv(app({ syslog_url: '  ' }), fn()), on],
    ['app sets the name', logFrameEnv(app({ config: { FN_LOGFRAME_NAME: 'mine' } }), fn()), {}],
    ['fn sets the header', logFrameEnv(app(), fn({ config: { FN_LOGFRAME_HDR: 'X-Req' } })), {}],
  ];
  for (const [name, got, want] of rows) assert.deepEqual(got, want, name);
});

test('frame name: cut at frames only when their value is the call id', () => {
  const rows: [Record<string, string>, string | undefined][] = [
    [{ FN_LOGFRAME_NAME: 'kiln_call', FN_LOGFRAME_HDR: 'Fn-Call-Id' }, 'kiln_call'],
    [{ FN_LOGFRAME_NAME: 'mine', FN_LOGFRAME_HDR: 'fn-call-id' }, 'mine'],
    [{ FN_LOGFRAME_NAME: 'mine', FN_LOGFRAME_HDR: 'X-Request-Id' }, undefined],
    [{ FN_LOGFRAME_NAME: 'mine' }, undefined],
    [{ FN_LOGFRAME_NAME: '', FN_LOGFRAME_HDR: 'Fn-Call-Id' }, undefined],
    [{ FN_LOGFRAME_NAME: 'a\nb', FN_LOGFRAME_HDR: 'Fn-Call-Id' }, undefined],
    [{}, undefined],
  ];
  for (const [env, want] of rows) assert.equal(logFrameName(env), want, JSON.stringify(env));
});
