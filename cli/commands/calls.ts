// `kiln calls APP FN` (newest first), `kiln calls get APP FN CALL_ID` (status, timings, a
// chart of CPU and memory from the stored stats) and `kiln logs APP FN CALL_ID`.
import type { Command } from 'commander';
import { statsChart } from '../chart.js';
import { ApiError, type Call, type Fn, type KilnClient } from '../client.js';
import { CliError } from '../errors.js';
import { durationMs, formatMs, table } from '../output.js';
import { printable } from '../printable.js';
import { findAppFn } from '../resolve.js';
import type { Session } from '../session.js';
import { emit, intOption, type Verbs } from './common.js';

function callDetail(c: Call): string {
  const queued = durationMs(c.created_at, c.started_at);
  const ran = durationMs(c.started_at, c.completed_at);
  // What the server sent, printable: a call's error can hold what its function printed.
  const p = printable;
  const lines = [
    `Call:      ${p(c.id)}`,
    `Status:    ${p(c.status)}`,
    ...(c.error ? [`Error:     ${p(c.error)}`] : []),
    ...(c.trigger_id ? [`Trigger:   ${p(c.trigger_id)}`] : []),
    `Created:   ${p(c.created_at)}`,
    `Started:   ${p(c.started_at ?? '-')}${queued !== undefined ? `  (waited ${formatMs(queued)})` : ''}`,
    `Completed: ${p(c.completed_at ?? '-')}${ran !== undefined ? `  (ran ${formatMs(ran)})` : ''}`,
    '',
    ...statsChart(c.stats ?? []),
  ];
  return `${lines.join('\n')}\n`;
}

async function listCalls(s: Session, appName: string, fnName: string, o: { limit: string }): Promise<void> {
  const client = await s.client();
  const { fn } = await findAppFn(client, appName, fnName);
  const n = intOption(o.limit, '-n') ?? CALLS_DEFAULT;
  if (n < 1 || n > CALLS_DEFAULT) throw new CliError(`-n must be 1 to ${CALLS_DEFAULT}, not ${n}`);
  const page = await client.listCalls(fn.id, n);
  const items = page.items;
  emit(s, items, () =>
    items.length === 0
      ? `no calls of ${appName}/${fnName} yet\n`
      : table(
          ['ID', 'STATUS', 'CREATED', 'DURATION', 'ERROR'],
          items.map((c) => [c.id, c.status, c.created_at, formatMs(durationMs(c.started_at, c.completed_at)), c.error ?? '']),
        ),
  );
}

/** A 404 for a call id gets a hint: where the fn's call ids are listed. */
function callNotFound(appName: string, fnName: string): (err: unknown) => never {
  return (err: unknown): never => {
    if (err instanceof ApiError && err.status === 404) {
      throw new ApiError(err.status, err.apiMessage, err.what, `\`kiln calls ${appName} ${fnName}\` lists the fn's calls, newest first.`);
    }
    throw err;
  };
}

/** As fn's objects/log/logs.go: `last` (or `l`) is the fn's newest call, the first the API lists. */
async function callIdOf(client: KilnClient, fn: Fn, appName: string, callId: string): Promise<string> {
  if (callId !== 'last' && callId !== 'l') return callId;
  const newest = (await client.listCalls(fn.id, 1)).items[0];
  if (!newest) throw new CliError(`no calls of ${appName}/${fn.name} yet, so no "${callId}" call`, `Call it first: \`kiln invoke ${appName} ${fn.name}\`.`);
  return newest.id;
}

async function getCall(s: Session, appName: string, fnName: string, id: string): Promise<void> {
  const client = await s.client();
  const { fn } = await findAppFn(client, appName, fnName);
  const callId = await callIdOf(client, fn, appName, id);
  const c = await client.getCall(fn.id, callId).catch(callNotFound(appName, fnName));
  emit(s, c, () => callDetail(c));
}

async function getLogs(s: Session, appName: string, fnName: string, id: string): Promise<void> {
  const client = await s.client();
  const { fn } = await findAppFn(client, appName, fnName);
  const callId = await callIdOf(client, fn, appName, id);
  const log = await client.getLog(fn.id, callId).catch(callNotFound(appName, fnName));
  emit(s, { call_id: callId, log }, () => (log === '' || log.endsWith('\n') ? log : `${log}\n`));
}

/** As `fn list calls`: 100 unless -n says (the API's largest page). */
const CALLS_DEFAULT = 100;

const limitOption = (c: Command): Command => c.option('-n, --limit <n>', `how many, newest first (1-100, default ${CALLS_DEFAULT})`);

export function registerCalls(program: Command, verbs: Verbs, s: Session): void {
  const calls = limitOption(
    program.command('calls').description("a fn's calls, newest first; `calls get APP FN CALL_ID` shows one").argument('<app>').argument('<fn>'),
  ).action((app: string, fn: string, o: { limit: string }) => listCalls(s, app, fn, o));
  // `calls get FN` (two words) can only be the calls of an app named `get` (a call needs three):
  // read so, where the subcommand would take it and miss its arguments.
  limitOption(
    calls
      .command('get <app> [fn] [call_id]')
      .usage('[options] APP FN CALL_ID  (or `calls get FN`: the calls of the app named "get")')
      .description('one call (CALL_ID `last` or `l`: the newest): status, timings and a chart of its CPU and memory'),
  ).action((app: string, fn: string | undefined, id: string | undefined, o: { limit: string }) => {
    if (fn === undefined) return listCalls(s, 'get', app, o);
    if (id === undefined) throw new CliError('missing CALL_ID: `kiln calls get APP FN CALL_ID`', 'Give the call\'s id (`kiln calls APP FN` lists them), or `last`.');
    return getCall(s, app, fn, id);
  });
  program
    .command('logs <app> <fn> <call_id>')
    .alias('log')
    .description("a call's output (its stdout and stderr); CALL_ID `last` or `l`: the newest call's")
    .action((app: string, fn: string, id: string) => getLogs(s, app, fn, id));

  // fn's spellings: `list calls`, `get call`, `get logs`.
  limitOption(verbs.list.command('calls <app> <fn>').aliases(['call', 'cl']).description("a fn's calls, newest first (as `kiln calls`)")).action(
    (app: string, fn: string, o: { limit: string }) => listCalls(s, app, fn, o),
  );
  verbs.get
    .command('call <app> <fn> <call_id>')
    .aliases(['calls', 'cl'])
    .description('one call (as `kiln calls get`)')
    .action((app: string, fn: string, id: string) => getCall(s, app, fn, id));
  verbs.get
    .command('logs <app> <fn> <call_id>')
    .aliases(['log', 'lg'])
    .description("a call's output (as `kiln logs`)")
    .action((app: string, fn: string, id: string) => getLogs(s, app, fn, id));
}
