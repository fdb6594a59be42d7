// The lambda-node bootstrap's handler loading and invocation loop (the last section of one
// script: see index.ts).

export const LOOP = String.raw`// ---- Loading the handler, and the loop ----
const root = process.env.LAMBDA_TASK_ROOT || '/var/task';

async function loadHandler() {
  const spec = process.env._HANDLER || 'index.handler';
  const dot = spec.lastIndexOf('.');
  const file = spec.slice(0, dot);
  const name = spec.slice(dot + 1);
  const found = ['.mjs', '.js', '.cjs'].map((ext) => path.join(root, file + ext)).find((p) => existsSync(p));
  if (dot < 1 || !found) throw Object.assign(new Error('Cannot find module ' + file + ' in ' + root + ' (_HANDLER=' + spec + ')'), { name: 'Runtime.ImportModuleError' });
  const mod = await import(pathToFileURL(found).href);
  const fn = mod[name] ?? mod.default?.[name];
  if (typeof fn !== 'function') throw Object.assign(new Error(file + '.' + name + ' is not a function'), { name: 'Runtime.HandlerNotFound' });
  return fn;
}

/** The invocation's answer: its result as JSON (undefined is null), else the failure. */
async function answer(id, outcome) {
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
  try {
    handler = await loadHandler();
  } catch (err) {
    await postError('/init/error', err);
    process.exit(1);
  }
  const streaming = handler[STREAMING] === 'response';
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
