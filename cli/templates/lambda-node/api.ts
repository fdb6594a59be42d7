// The lambda-node bootstrap's Runtime API client and its error reports (a section of one script:
// see index.ts). Written without template literals, so the text here is the script as it runs.

export const RUNTIME_API = String.raw`// ---- The Runtime API ----
const [apiHost, apiPort] = String(process.env.AWS_LAMBDA_RUNTIME_API).split(':');
const RUNTIME = '/2018-06-01/runtime';
// One kept-alive connection, as AWS's client. An idle kept-alive socket holds no event loop
// open, so the loop empties once the handler's own work is done (callbackWaitsForEmptyEventLoop).
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** A request to the Runtime API, answered with its headers and body; via false, on a connection of its own. */
function call(method, route, headers, body, via = agent) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: apiHost, port: apiPort, method, path: RUNTIME + route, headers, agent: via }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A header's value as its UTF-8 bytes (node sends a header's text as latin1), control characters left out. */
const headerValue = (text) => Buffer.from(String(text).replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ''), 'utf8').toString('latin1');

function postJson(route, text, errorType, via) {
  const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) };
  if (errorType !== undefined) headers['Lambda-Runtime-Function-Error-Type'] = headerValue(errorType);
  return call('POST', route, headers, text, via);
}

// The runtime's own errors, as AWS's client has them: each type is "Runtime." and the class's name.
class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class MalformedStreamingHandler extends Error {}
class InvalidStreamingOperation extends Error {}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const E of [ImportModuleError, HandlerNotFound, MalformedHandlerName, UserCodeSyntaxError, MalformedStreamingHandler, InvalidStreamingOperation, UnhandledPromiseRejection]) {
  E.prototype.name = 'Runtime.' + E.name;
}

// As AWS's client: a native error, or anything with a name, a message and a stack (all non-empty).
const isError = (e) => util.types.isNativeError(e) ||
  Boolean(e && e.name && e.message && e.stack && typeof e.name === 'string' && typeof e.message === 'string' && typeof e.stack === 'string');

// DEL would end the header the type also goes in: AWS's client writes it %7F, in the body too.
const noDel = (text) => text?.replace(/\x7F/g, '%7F');

/**
 * An error as AWS's client posts it: {errorType, errorMessage, trace} with the whole stack
 * (its first line too); a thrown non-Error has its typeof as errorType and no trace.
 */
function errorReport(err) {
  try {
    if (isError(err)) return { errorType: noDel(err.name), errorMessage: noDel(err.message), trace: noDel(err.stack).split('\n') };
    return { errorType: typeof err, errorMessage: err.toString(), trace: [] };
  } catch {
    return { errorType: 'handled', errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack' };
  }
}

function postError(route, err, via) {
  const report = errorReport(err);
  return postJson(route, JSON.stringify(report), report.errorType, via);
}
`;
