// A measuring stick, not a Runtime API: the least any Node relay between Fn's http-stream socket
// and a Lambda runtime must do, on node:http as Kiln's daemon is. One call in on the socket
// becomes the answer to the runtime's parked `GET next`; its POSTed response goes back out;
// no ids checked, no deadlines, logs, extensions or errors. The bench runs it in a container
// like the Lambda hello's, with the same runtime, so what it costs over the http-stream hello
// is the floor of the Lambda layer on this machine. Bind-mounted as an .mjs, run by the
// bundle's node; it never runs on the host.
import { spawn } from 'node:child_process';
import { chmodSync, symlinkSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { basename, dirname, join } from 'node:path';

interface Event { id: string; body: Buffer }

const listener = (process.env.FN_LISTENER ?? 'unix:/tmp/iofs/lsnr.sock').replace(/^unix:/, '');
const phony = join(dirname(listener), `phony${basename(listener)}`);
let parkedNext: ServerResponse | undefined;
let queued: Event | undefined;
let caller: ServerResponse | undefined;
let n = 0;

const collect = (req: NodeJS.ReadableStream, then: (body: Buffer) => void): void => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => then(Buffer.concat(chunks)));
};

/** The headers a runtime reads from `next`, as Kiln's daemon and the service send them. */
function deliver(res: ServerResponse, ev: Event): void {
  res.writeHead(200, {
    'Lambda-Runtime-Aws-Request-Id': ev.id,
    'Lambda-Runtime-Deadline-Ms': String(Date.now() + 30_000),
    'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:000000000000:function:least-relay',
    'Lambda-Runtime-Trace-Id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    'content-type': 'application/json',
    'content-length': ev.body.length,
  });
  res.end(ev.body);
}

createServer((req, res) => {
  if (req.method === 'GET') {
    req.resume();
    if (queued) deliver(res, queued);
    else parkedNext = res;
    queued = undefined;
    return;
  }
  collect(req, (body) => {
    const c = caller;
    caller = undefined;
    c?.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    c?.end(body);
    // After the answer, as Kiln's daemon does, so the runtime's next request does not compete with it.
    setImmediate(() => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"status":"OK"}\n');
    });
  });
}).listen(9001, '127.0.0.1');

createServer({ keepAliveTimeout: 0 }, (req, res) => {
  collect(req, (body) => {
    caller = res;
    const ev = { id: String(++n), body };
    if (parkedNext) deliver(parkedNext, ev);
    else queued = ev;
    parkedNext = undefined;
  });
}).listen(phony, () => {
  chmodSync(phony, 0o666);
  symlinkSync(basename(phony), listener);
});

spawn('/var/task/bootstrap', {
  env: { ...process.env, AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', LAMBDA_TASK_ROOT: '/var/task', _HANDLER: 'index.handler' },
  stdio: 'inherit',
});
