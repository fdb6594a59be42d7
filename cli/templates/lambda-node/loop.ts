// The lambda-node bootstrap's invocation loop (the last section of one script: see index.ts).

export const LOOP = String.raw`// ---- The loop ----
// As AWS's client: an uncaught exception or unhandled rejection is the current invocation's
// error (before the first, the init's), logged and posted, and then the runtime exits (129, or
// 128 for a rejection) to be started afresh. The post has a connection of its own: the loop's
// may be waiting in next.
let crashing = false;
function crash(label, err, code) {
  logError(label, err);
  if (crashing) return;
  crashing = true;
  const route = currentRequestId === undefined ? '/init/error' : '/invocation/' + encodeURIComponent(currentRequestId) + '/error';
  const exit = () => process.exit(code);
  postError(route, err, false).then(exit, exit);
}
process.on('uncaughtException', (err) => crash('Uncaught Exception', err, 129));
process.on('unhandledRejection', (reason, promise) => crash('Unhandled Promise Rejection', new UnhandledPromiseRejection(reason, promise), 128));

/** The invocation's answer: its result as JSON (undefined is null), else the failure. */
async function answer(id, outcome) {
  if (crashing) return new Promise(() => {}); // the crash's error is the answer; the runtime is exiting
  const route = '/invocation/' + encodeURIComponent(id);
  let text;
  if (!('error' in outcome)) {
    try {
      text = JSON.stringify(outcome.result === undefined ? null : outcome.result);
    } catch {
      outcome = { error: new Error('Unable to stringify response body') };
    }
  }
  if ('error' in outcome) {
    await postError(route + '/error', logInvokeError(outcome.error));
  } else {
    await postJson(route + '/response', text);
  }
}

async function main() {
  patchConsole();
  let handler;
  let streaming;
  try {
    handler = await loadHandler(process.env._HANDLER || 'index.handler');
    streaming = isStreaming(handler);
  } catch (err) {
    // As AWS's client, whose failed load ends as an uncaught exception: logged so, posted, exit 129.
    logError('Uncaught Exception', err);
    await postError('/init/error', err);
    process.exit(129);
  }
  for (;;) {
    const next = await call('GET', '/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    currentRequestId = id;
    const trace = next.headers['lambda-runtime-trace-id'];
    if (trace) process.env._X_AMZN_TRACE_ID = trace;
    else delete process.env._X_AMZN_TRACE_ID;
    let event;
    try {
      event = next.body === '' ? {} : JSON.parse(next.body);
    } catch {
      event = next.body;
    }
    let context;
    try {
      context = invocationContext(id, next.headers);
    } catch (err) {
      await answer(id, { error: err });
      continue;
    }
    if (streaming) await runStreaming(handler, event, context, id);
    else await answer(id, await runBuffered(handler, event, context));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;
