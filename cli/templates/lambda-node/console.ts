// The lambda-node bootstrap's console: Lambda's log lines, as AWS's Node runtime writes them (a
// section of one script: see index.ts).

export const CONSOLE = String.raw`// ---- console: Lambda's log lines ----
// Text: "<ISO time>\t<request id>\t<LEVEL>\t<message>"; JSON (AWS_LAMBDA_LOG_FORMAT=JSON): one
// {"timestamp","level","requestId","message"} object a line. AWS_LAMBDA_LOG_LEVEL drops the
// more detailed levels. Newlines within a message become carriage returns, so a message (a
// stack trace) stays one record in the log.
let currentRequestId; // the invocation being run; undefined before the first, as in AWS's lines
const LOG_LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };
const jsonLogs = String(process.env.AWS_LAMBDA_LOG_FORMAT).toUpperCase() === 'JSON';

/** An Error inside a JSON record: its type, message and stack lines, and its own fields. */
function errorFields(value) {
  if (!(value instanceof Error)) return value;
  return { errorType: value.constructor?.name ?? 'UnknownError', errorMessage: value.message,
    stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack, ...value };
}

function jsonLine(time, level, args) {
  const record = { timestamp: time, level, requestId: currentRequestId };
  if (args.length === 1) {
    // One argument is the message as it is: an object stays an object.
    record.message = args[0];
    try {
      return JSON.stringify(record, (_key, v) => errorFields(v));
    } catch {
      record.message = util.format(args[0]);
      return JSON.stringify(record);
    }
  }
  record.message = util.format(...args);
  const err = args.find((a) => a instanceof Error);
  if (err) Object.assign(record, { errorType: err.constructor?.name ?? 'UnknownError', errorMessage: err.message, stackTrace: String(err.stack).split('\n') });
  return JSON.stringify(record);
}

function patchConsole() {
  const least = LOG_LEVELS[String(process.env.AWS_LAMBDA_LOG_LEVEL).toUpperCase()] ?? LOG_LEVELS.TRACE;
  const at = (level) => (LOG_LEVELS[level] < least ? () => {} : (...args) => {
    const time = new Date().toISOString();
    const line = jsonLogs ? jsonLine(time, level, args) : time + '\t' + currentRequestId + '\t' + level + '\t' + util.format(...args);
    process.stdout.write(line.replace(/\n/g, '\r') + '\n');
  });
  console.trace = at('TRACE');
  console.debug = at('DEBUG');
  console.info = at('INFO');
  console.log = console.info;
  console.warn = at('WARN');
  console.error = at('ERROR');
  console.fatal = at('FATAL');
}

/** An error's line, as AWS's runtime logs it: the label ("Invoke Error") and the error as JSON. */
function logError(label, err) {
  const asError = err instanceof Error ? err : new Error(err); // as AWS's intoError
  if (jsonLogs) return console.error(asError);
  const fields = (v) => (v instanceof Error
    ? { errorType: v.name, errorMessage: v.message, code: v.code, ...v, stack: String(v.stack).split('\n') }
    : v);
  let text;
  try {
    text = JSON.stringify(asError, (_key, v) => fields(v));
  } catch {
    text = JSON.stringify(errorReport(asError));
  }
  console.error(label, '\t' + text);
}

/**
 * Logs a failed invocation's error; returns the error to post. As AWS's client, whose log line
 * makes an Error of it: what cannot be one (an object without toString) fails there, and that
 * failure is the invocation's error.
 */
function logInvokeError(err) {
  try {
    logError('Invoke Error', err);
    return err;
  } catch (unloggable) {
    logError('Invoke Error', unloggable);
    return unloggable;
  }
}
`;
