// agent/container-env.ts: an http-stream container's environment, from its app and fn.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerEnv } from '../../agent/container-env.js';
import { LOG_FRAME_HEADER, LOG_FRAME_NAME } from '../../agent/log-frames.js';
import type { App, Fn } from '../../store/types.js';

const T = '2026-12-03T00:00:00.000Z';
const app = (config: Record<string, string>, syslog_url?: string): App => ({
  id: 'A1', name: 'myapp', config, annotations: {}, shape: 'GENERIC_X86', created_at: T, updated_at: T, ...(syslog_url !== undefined && { syslog_url }),
});
const fn = (config: Record<string, string>): Fn => ({
  id: 'F1', name: 'hello', app_id: 'A1', image: 'hello:0.0.1', memory: 256, timeout: 30, idle_timeout: 30, format: 'http-stream', config, annotations: {}, created_at: T, updated_at: T,
});
const FN_OWN = {
  FN_LISTENER: 'unix:/tmp/iofs/lsnr.sock', FN_FORMAT: 'http-stream', FN_APP_ID: 'A1', FN_APP_NAME: 'myapp', FN_FN_ID: 'F1', FN_FN_NAME: 'hello', FN_NAME: 'hello', FN_MEMORY: '256', FN_TYPE: 'sync',
};
const FRAMES = { FN_LOGFRAME_NAME: LOG_FRAME_NAME, FN_LOGFRAME_HDR: LOG_FRAME_HEADER };

const rows: { name: string; app: App; fn: Fn; logFrames: boolean; want: Record<string, string> }[] = [
  { name: "Fn's own variables", app: app({}), fn: fn({}), logFrames: false, want: FN_OWN },
  { name: "the fn's config over the app's", app: app({ A: 'app', B: 'app' }), fn: fn({ B: 'fn' }), logFrames: false, want: { A: 'app', B: 'fn', ...FN_OWN } },
  { name: "config cannot replace Fn's own", app: app({ FN_MEMORY: '9999' }), fn: fn({ FN_LISTENER: 'unix:/elsewhere', FN_FN_ID: 'X' }), logFrames: false, want: FN_OWN },
  { name: 'log frames when the server frames logs', app: app({}), fn: fn({}), logFrames: true, want: { ...FRAMES, ...FN_OWN } },
  { name: "the user's own framing is kept", app: app({ FN_LOGFRAME_NAME: 'mine' }), fn: fn({}), logFrames: true, want: { FN_LOGFRAME_NAME: 'mine', ...FN_OWN } },
  { name: 'no frames for an app with a syslog_url (they would reach it)', app: app({}, 'udp://logs:514'), fn: fn({}), logFrames: true, want: FN_OWN },
];
for (const r of rows) test(`containerEnv: ${r.name}`, () => assert.deepEqual(containerEnv(r.app, r.fn, r.logFrames), r.want));
