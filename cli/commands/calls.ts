// `kiln calls APP FN` (newest first), `kiln calls get APP FN CALL_ID` (status, timings, a
// chart of CPU and memory from the stored stats) and `kiln logs APP FN CALL_ID`.
import type { Command } from 'commander';
import { statsChart } from '../chart.js';
import type { Call } from '../client.js';
import { durationMs, formatMs, table } from '../output.js';
import { findAppFn } from '../resolve.js';
import type { Session } from '../session.js';
import { emit, intOption } from './common.js';

function callDetail(c: Call): string {
  const queued = durationMs(c.created_at, c.started_at);
  const ran = durationMs(c.started_at, c.completed_at);
  const lines = [
    `Call:      ${c.id}`,
    `Status:    ${c.status}`,
    ...(c.error ? [`Error:     ${c.error}`] : []),
    ...(c.trigger_id ? [`Trigger:   ${c.trigger_id}`] : []),
    `Created:   ${c.created_at}`,
    `Started:   ${c.started_at ?? '-'}${queued !== undefined ? `  (waited ${formatMs(queued)})` : ''}`,
    `Completed: ${c.completed_at ?? '-'}${ran !== undefined ? `  (ran ${formatMs(ran)})` : ''}`,
    '',
    ...statsChart(c.stats ?? []),
  ];
  return `${lines.join('\n')}\n`;
}

export function registerCalls(program: Command, s: Session): void {
  const calls = program
    .command('calls')
    .description("a fn's calls, newest first; `calls get APP FN CALL_ID` shows one")
    .argument('<app>')
    .argument('<fn>')
    .option('-n, --limit <n>', 'how many (1-100)', '30')
    .action(async (appName: string, fnName: string, o: { limit: string }) => {
      const client = await s.client();
      const { fn } = await findAppFn(client, appName, fnName);
      const page = await client.listCalls(fn.id, intOption(o.limit, '--limit') ?? 30);
      const items = page.items;
      emit(s, items, () =>
        items.length === 0
          ? `no calls of ${appName}/${fnName} yet\n`
          : table(
              ['ID', 'STATUS', 'CREATED', 'DURATION', 'ERROR'],
              items.map((c) => [c.id, c.status, c.created_at, formatMs(durationMs(c.started_at, c.completed_at)), c.error ?? '']),
            ),
      );
    });
  calls
    .command('get <app> <fn> <call_id>')
    .description('one call: status, timings and a chart of its CPU and memory')
    .action(async (appName: string, fnName: string, callId: string) => {
      const client = await s.client();
      const { fn } = await findAppFn(client, appName, fnName);
      const c = await client.getCall(fn.id, callId);
      emit(s, c, () => callDetail(c));
    });

  program
    .command('logs <app> <fn> <call_id>')
    .alias('log')
    .description("a call's output (its stdout and stderr)")
    .action(async (appName: string, fnName: string, callId: string) => {
      const client = await s.client();
      const { fn } = await findAppFn(client, appName, fnName);
      const log = await client.getLog(fn.id, callId);
      emit(s, { call_id: callId, log }, () => (log === '' || log.endsWith('\n') ? log : `${log}\n`));
    });
}
