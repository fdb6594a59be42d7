// `kiln invoke APP FN` (Fn's invoke by fn id) and `kiln invoke --trigger APP /source` (an HTTP
// trigger, with the method, headers and body given). The answer's body goes to stdout as is.
import type { Command } from 'commander';
import { readFuncYaml } from '../../images/func-yaml.js';
import { ApiError, errorMessage, type KilnClient } from '../client.js';
import { CliError } from '../errors.js';
import { callFailure, failureLine, invokeAt, invokeTrigger, type InvokeReply } from '../invoke.js';
import { findAppFn } from '../resolve.js';
import type { Session } from '../session.js';
import { collect, emit } from './common.js';

interface InvokeOpts {
  body?: string;
  contentType?: string;
  detached?: boolean;
  trigger?: boolean;
  method?: string;
  header?: string[];
  include?: boolean;
  displayCallId?: boolean;
  endpoint?: string;
}

async function bodyOf(s: Session, o: InvokeOpts): Promise<Buffer | undefined> {
  if (o.body !== undefined) return Buffer.from(o.body);
  const stdin = await s.io.readStdin();
  return stdin && stdin.length > 0 ? stdin : undefined;
}

function headerMap(list: string[] | undefined, contentType: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list ?? []) {
    const i = h.indexOf(':');
    if (i < 1) throw new CliError(`header "${h}" is not "Name: value"`);
    out[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  if (contentType) out['content-type'] = contentType;
  return out;
}

/**
 * The answer. `invoke APP FN` prints as `fn invoke`: `Call ID: X` (--display-call-id) on stdout
 * before the body, and a newline after a body that lacks one. A trigger's body is printed
 * exactly as the caller gets it, its call id on stderr.
 */
function showReply(s: Session, r: InvokeReply, o: InvokeOpts): void {
  showHead(s, r, o);
  // The answer's bytes as they came (an image, say), as fn's io.Copy; only a newline is added.
  const body = r.body;
  if (o.trigger) {
    if (o.displayCallId && r.callId) s.io.err(`Call ID: ${r.callId}\n`);
    return s.io.out(body);
  }
  if (o.displayCallId && r.callId) s.io.out(`Call ID: ${r.callId}\n`);
  s.io.out(body);
  if (body[body.length - 1] !== 0x0a) s.io.out('\n');
}

/** With -i: the status and headers on stderr (a failed call's too, before its error). */
function showHead(s: Session, r: InvokeReply, o: InvokeOpts): void {
  if (!o.include) return;
  s.io.err(`HTTP ${r.status}\n`);
  r.headers.forEach((v, k) => s.io.err(`${k}: ${v}\n`));
  s.io.err('\n');
}

/**
 * As `fn invoke`: without --content-type, the `content_type` of the func.yaml in the current
 * directory, when that func.yaml is this fn's (its name).
 */
async function defaultContentType(s: Session, fnName: string | undefined): Promise<string | undefined> {
  try {
    const f = await readFuncYaml(s.io.cwd);
    // With --endpoint there is no name to match: fn takes the func.yaml's then too.
    return fnName === undefined || f.name === fnName ? f.fields.content_type : undefined;
  } catch {
    return undefined; // no (usable) func.yaml here: text/plain
  }
}

/** What is called: APP/FN (looked up by name), or fn's --endpoint URL as given. */
type Target = { app: string; fn: string } | { endpoint: string };

async function invokeByName(s: Session, target: Target, o: InvokeOpts): Promise<void> {
  const api = await s.client();
  const named = 'app' in target ? target : undefined;
  // --endpoint: POSTed as given, with no lookup (fn's commands/invoke.go).
  const fnId = named ? (await findAppFn(api, named.app, named.fn)).fn.id : undefined;
  const { client, path, tokenWithheld } = fnId !== undefined
    ? { client: api, path: `/invoke/${fnId}`, tokenWithheld: false }
    : api.at((target as { endpoint: string }).endpoint);
  const label = named ? `function ${named.app}/${named.fn}` : `function at ${(target as { endpoint: string }).endpoint}`;
  const body = await bodyOf(s, o);
  const contentType = o.contentType ?? (await defaultContentType(s, named?.fn));
  const r = await invokeAt(client, path, {
    ...(body && { body }),
    ...(contentType && { contentType }),
    detached: o.detached === true,
    what: `calling ${label}`,
  });
  if (o.detached && r.status === 202) {
    emit(s, { call_id: r.callId }, () => `Call ID: ${r.callId ?? '?'}\n`);
    return;
  }
  if (r.status >= 200 && r.status < 300) return showReply(s, r, o);
  showHead(s, r, o);
  // As fn's client.Invoke: the call id goes to stdout as soon as the answer has one, failed or not.
  if (o.displayCallId && r.callId) s.io.out(`Call ID: ${r.callId}\n`);
  // The server refused the body before any call (no call id): the function never ran.
  if (r.status === 413 && !r.callId) {
    throw new CliError(
      `the request body (${body?.length ?? 0} bytes) is too large for the server (HTTP 413): ${errorMessage(r.body.toString('utf8'))}`,
      `The ${label} was not called. The server's limit is its FN_MAX_REQUEST_SIZE; send a smaller body.`,
    );
  }
  const f = callFailure(r.headers, r.body.toString('utf8'));
  // The endpoint's server wants a token the context has but did not send it (another origin).
  if (r.status === 401 && tokenWithheld) {
    const from = await s.api();
    throw new CliError(
      `${label} failed (HTTP 401): ${failureLine(f)}`,
      `The token (${from.tokenSource ?? 'the context\'s'}) was withheld: the endpoint's origin (${client.url}) differs from the API URL (${from.url}, from ${from.source}), and the token goes only there. Call the fn through that API (\`kiln invoke APP FN\`), or use an API URL of ${client.url}.`,
    );
  }
  // With --endpoint there are no names to give: no `kiln calls` hint, the logs' with placeholders.
  const names = named ? `${named.app} ${named.fn}` : 'APP FN';
  const hasLog = r.callId && fnId ? await callHasLog(api, fnId, r.callId) : undefined;
  const logs = !r.callId
    ? ''
    : hasLog === false
      ? `it left no log${named ? '; ' : '.'}`
      : `\`kiln logs ${names} ${r.callId}\` shows its output${hasLog ? '' : ', if it left any'}${named ? '; ' : '.'}`;
  const hint = `${stackLines(f.stack)}${r.callId ? `Call ${r.callId}: ` : ''}${logs}${named ? `\`kiln calls ${names}\` lists its calls.` : ''}`;
  throw new CliError(`${label} failed (HTTP ${r.status}): ${failureLine(f)}`, hint.trimEnd() || undefined);
}

/** How long to wait, in turn, for a failed call's record: the server writes it just after its answer. */
const RECORD_WAITS_MS = [25, 50, 100, 200, 400];

/**
 * Whether a failed call left a log (a call whose image is missing has none, and `kiln logs`
 * would print nothing), or undefined when that cannot be told: the call not recorded within
 * a moment, or the log not readable.
 */
async function callHasLog(client: KilnClient, fnId: string, callId: string): Promise<boolean | undefined> {
  for (const wait of [0, ...RECORD_WAITS_MS]) {
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    try {
      return (await client.getLog(fnId, callId)) !== '';
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) return undefined;
    }
  }
  return undefined;
}

/** The first lines of an error's stack, indented, for the hint. */
function stackLines(stack: string[]): string {
  if (stack.length === 0) return '';
  const shown = stack.slice(0, 5).map((l) => `    ${l}\n`).join('');
  return `${shown}${stack.length > 5 ? `    … ${stack.length - 5} more\n` : ''}`;
}

async function invokeByTrigger(s: Session, appName: string, source: string, o: InvokeOpts): Promise<void> {
  const client = await s.client();
  const body = await bodyOf(s, o);
  const method = (o.method ?? (body ? 'POST' : 'GET')).toUpperCase();
  const r = await invokeTrigger(client, appName, source, { method, headers: headerMap(o.header, o.contentType), ...(body && { body }) });
  // The server's own 404 (no such app or trigger) makes no call, so carries no Fn-Call-Id; a
  // function's 404 with the same words is its answer, shown as any other.
  if (r.status === 404 && !r.callId && /^(App|Trigger) not found/i.test(errorMessage(r.body.toString('utf8')))) {
    throw new CliError(
      `no HTTP trigger at /t/${appName}${source} (${errorMessage(r.body.toString('utf8'))})`,
      `See \`kiln list triggers ${appName}\`.`,
    );
  }
  showReply(s, r, o);
  if (r.status >= 400) {
    // The body went to stdout as the caller would get it; the error says what it was.
    const f = callFailure(r.headers, r.body.toString('utf8'));
    throw new CliError(
      `${method} /t/${appName}${source} answered HTTP ${r.status}: ${failureLine(f)}`,
      `${stackLines(f.stack)}${r.callId ? `Call ${r.callId}: \`kiln logs ${appName} FN ${r.callId}\` shows its output, if it left any (\`kiln list triggers ${appName}\` names FN).` : ''}`.trimEnd() || undefined,
    );
  }
}

export function registerInvoke(program: Command, s: Session): void {
  program
    .command('invoke [app] [fn_or_source]')
    .alias('iv')
    .description('call a function (body from --body or stdin) and print its answer; --trigger calls APP /source over HTTP')
    .option('--body <text>', 'the request body (default: stdin when piped)')
    .option('--content-type <type>', "Content-Type of the body (default: func.yaml's content_type here, else text/plain)")
    .option('--detached', 'answer at once with the call id; the call runs on')
    .option('--trigger', 'the second argument is an HTTP trigger source (/path) of the app')
    .option('-X, --method <method>', 'HTTP method for --trigger (default POST with a body, else GET); accepted and ignored without it, as fn invoke')
    .option('-H, --header <header>', 'a request header "Name: value" for --trigger (repeatable)', collect)
    .option('-i, --include', 'print the status and headers (to stderr)')
    .option('--display-call-id', 'print "Call ID: X" before the answer, a failed call\'s too (stdout; to stderr with --trigger)')
    .option('--endpoint <url>', "POST to this invoke URL as given (the fn's invokeEndpoint annotation), with no app/fn lookup; APP and FN are ignored")
    .action(async (app: string | undefined, second: string | undefined, o: InvokeOpts) => {
      if (o.endpoint !== undefined) {
        if (o.trigger || o.header) throw new CliError('--endpoint goes without --trigger and --header', 'It calls an fn\'s invoke endpoint; a trigger: `kiln invoke --trigger APP /SOURCE`.');
        return invokeByName(s, { endpoint: o.endpoint }, o);
      }
      if (app === undefined || second === undefined) {
        throw new CliError('missing app and function name', 'e.g. `kiln invoke APP FN`, `kiln invoke --trigger APP /SOURCE` or `kiln invoke --endpoint URL`.');
      }
      if (o.trigger) {
        if (o.detached) throw new CliError('--detached goes with `kiln invoke APP FN`', 'A trigger answers when the call is done.');
        return invokeByTrigger(s, app, second, o);
      }
      if (o.header) {
        throw new CliError('--header goes with --trigger', `Call the fn's HTTP trigger (\`kiln invoke --trigger ${app} /SOURCE ...\`), or drop it.`);
      }
      // As fn invoke: --method is accepted and ignored (an invoke is always a POST).
      if (o.method && o.method.toUpperCase() !== 'POST') s.io.err(`note: --method ${o.method} is ignored: invoke APP FN always POSTs (as fn invoke); --trigger sends a method\n`);
      return invokeByName(s, { app, fn: second }, o);
    });
}
