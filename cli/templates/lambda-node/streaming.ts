// The lambda-node bootstrap's response streaming: the awslambda global, HttpResponseStream and
// the handler's responseStream (a section of one script: see index.ts).

export const STREAMING = String.raw`// ---- Response streaming ----
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const ERROR_TYPE = 'Lambda-Runtime-Function-Error-Type';
const ERROR_BODY = 'Lambda-Runtime-Function-Error-Body';

class HttpResponseStream {
  /** A function URL answer: the prelude (statusCode, headers, cookies) and 8 NUL bytes go before the body. */
  static from(stream, prelude) {
    stream.setContentType('application/vnd.awslambda.http-integration-response');
    const text = JSON.stringify(prelude);
    stream._onBeforeFirstWrite = (write) => {
      write(text);
      write(new Uint8Array(8));
    };
    return stream;
  }
}

// AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA=1 (or true) leaves the global out, as the managed runtime does.
if (!['1', 'true'].includes(process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA)) {
  globalThis.awslambda = {
    streamifyResponse(handler, options) {
      handler[STREAMING] = 'response';
      if (typeof options?.highWaterMark === 'number') handler[HIGH_WATER_MARK] = options.highWaterMark;
      return handler;
    },
    HttpResponseStream,
  };
}

/** Whether the handler streams its response; a mark other than response streaming is refused at init, as AWS's client does. */
function isStreaming(handler) {
  const mark = handler[STREAMING];
  if (mark === undefined || mark === null || mark === false) return false;
  if (mark === 'response') return true;
  throw new MalformedStreamingHandler('Only response streaming is supported.');
}


/** The handler's responseStream: what it writes is the body of a streamed /response, sent as written. */
class ResponseStream extends Writable {
  constructor(req, highWaterMark) {
    super(highWaterMark === undefined ? {} : { highWaterMark });
    this.req = req;
    this.started = false;
    this.failure = undefined;
    // A destroy(err) is the stream's failure, reported in the trailers (not a crash).
    this.on('error', () => {});
  }

  setContentType(type) {
    if (this.started) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    this.req.setHeader('Content-Type', type);
  }

  start() {
    if (this.started) return;
    this.started = true;
    if (typeof this._onBeforeFirstWrite === 'function') this._onBeforeFirstWrite((chunk) => this.req.write(chunk));
  }

  write(chunk, encoding, cb) {
    // As AWS's stream: what is neither text nor bytes is written as its JSON.
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) chunk = JSON.stringify(chunk);
    this.start();
    return super.write(chunk, encoding, cb);
  }

  end(chunk, encoding, cb) {
    if (typeof chunk === 'function') [chunk, cb] = [undefined, chunk];
    else if (typeof encoding === 'function') [encoding, cb] = [undefined, encoding];
    if (chunk != null) this.write(chunk, encoding);
    return super.end(cb);
  }

  _write(chunk, _encoding, cb) {
    if (this.req.write(chunk)) cb();
    else this.req.once('drain', () => cb());
  }

  _final(cb) {
    // A from() stream that wrote nothing still sends its prelude, unless it failed.
    if (this.failure === undefined) this.start();
    this.endRequest(this.failure);
    cb();
  }

  _destroy(err, cb) {
    this.endRequest(err ?? this.failure);
    cb(err);
  }

  /** Ends the POST, with the failure in its trailers (the body so far has gone already). */
  endRequest(failure) {
    if (this.req.writableEnded) return;
    if (failure !== undefined && failure !== null) {
      const report = errorReport(failure);
      this.req.addTrailers({ [ERROR_TYPE]: headerValue(report.errorType), [ERROR_BODY]: Buffer.from(JSON.stringify(report)).toString('base64') });
    }
    this.req.end();
  }

  fail(err) {
    this.failure = err;
    // Ended by the handler, its last writes may still be on their way: _final adds the trailers.
    if (this.destroyed) this.endRequest(err);
    else if (!this.writableEnded) this.end();
  }
}

/**
 * Runs a streaming handler, (event, responseStream, context) => promise; resolves once the
 * Runtime API has taken the whole stream. A failure goes in the trailers, as AWS's client sends it.
 */
async function runStreaming(handler, event, context, id) {
  const req = http.request({
    host: apiHost, port: apiPort, method: 'POST', agent,
    path: RUNTIME + '/invocation/' + encodeURIComponent(id) + '/response',
    headers: {
      'Lambda-Runtime-Function-Response-Mode': 'streaming',
      'Content-Type': 'application/octet-stream',
      // Declared trailers make node send the body chunked (an empty one too), trailers after it.
      Trailer: ERROR_TYPE + ', ' + ERROR_BODY,
    },
  });
  const taken = new Promise((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', resolve);
    });
    req.on('error', resolve); // the daemon's log says what went wrong; the loop goes on
  });
  const stream = new ResponseStream(req, handler[HIGH_WATER_MARK]);
  try {
    const out = handler(event, stream, context);
    // AWS's runtime fails these with a plain string (errorType "string"); so does this one.
    if (!out || typeof out.then !== 'function') throw 'Streaming does not support non-async handlers.';
    if ((await out) !== undefined) console.warn('Streaming handlers ignore return values.');
    if (!stream.writableEnded) throw 'Response stream is not finished.';
  } catch (err) {
    stream.fail(logInvokeError(err));
  }
  await taken;
  if (context.callbackWaitsForEmptyEventLoop) await emptyLoop();
}
`;
