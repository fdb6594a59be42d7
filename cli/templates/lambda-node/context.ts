// The lambda-node bootstrap's context object and callback-style handlers (a section of one script:
// see index.ts).

export const CONTEXT = String.raw`// ---- The context, and handlers that call back ----
function headerJson(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error('Cannot parse ' + name + ' as json: ' + err);
  }
}

/** The context every handler gets, from the invocation's headers and the environment. */
function invocationContext(id, headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']) || Date.now() + 30000;
  return {
    awsRequestId: id,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: headerJson(headers['lambda-runtime-client-context'], 'ClientContext'),
    identity: headerJson(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

// Node emits beforeExit when nothing is left for the event loop to do (the runtime's idle
// connection does not count): that is when a waiting callback's answer goes.
let onEmptyLoop = null;
process.on('beforeExit', () => {
  const then = onEmptyLoop;
  onEmptyLoop = null;
  if (then) setImmediate(then);
});
const emptyLoop = () => new Promise((resolve) => { onEmptyLoop = resolve; });

/**
 * Runs a handler that returns its answer (a promise) or calls back, as AWS's runtime does: the
 * first of callback, context.done/succeed/fail and the promise's end counts; callback(null, r)
 * answers once the event loop is empty unless context.callbackWaitsForEmptyEventLoop is false;
 * a handler that does neither answers null once its work is done. Resolves { result } or { error }.
 */
function runBuffered(handler, event, context) {
  return new Promise((settle) => {
    let finished = false;
    const once = (f) => (...args) => {
      if (finished) return;
      finished = true;
      onEmptyLoop = null;
      f(...args);
    };
    const done = once((err, result) => settle(err == null ? { result } : { error: err }));
    const callback = once((err, result) => {
      if (err != null) settle({ error: err });
      else if (context.callbackWaitsForEmptyEventLoop) onEmptyLoop = () => settle({ result });
      else settle({ result });
    });
    context.done = done;
    context.succeed = (result) => done(null, result);
    context.fail = (err) => done(err == null ? 'handled' : err);
    onEmptyLoop = once(() => settle({ result: null }));
    try {
      const out = handler(event, context, callback);
      if (out && typeof out.then === 'function') out.then(context.succeed, context.fail);
    } catch (err) {
      callback(err);
    }
  });
}
`;
