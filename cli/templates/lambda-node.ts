// `kiln init --runtime lambda-node`: a Lambda handler (index.mjs) with a small Node custom
// runtime (bootstrap) speaking the Lambda Runtime API, so it needs no AWS runtime client.
import { file, type TemplateFiles } from './types.js';

const HANDLER = `// Lambda handler: the event is the invoke's JSON body; the answer is JSON-encoded.
export const handler = async (event, context) => {
  const name = (event && typeof event === 'object' && event.name) || 'World';
  console.log(\`request \${context.awsRequestId} for \${name}\`);
  return { message: \`Hello \${name}\` };
};
`;

// Runs as /var/task/bootstrap with the image's node (kiln/node has no /usr/bin/env).
const BOOTSTRAP = `#!/usr/local/bin/node
// A Lambda custom runtime: loads the handler named by _HANDLER (file.export, default
// index.handler) from the task root, then takes events from the Runtime API one at a time.
'use strict';
const { pathToFileURL } = require('node:url');
const { existsSync } = require('node:fs');
const path = require('node:path');

const api = \`http://\${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime\`;
const root = process.env.LAMBDA_TASK_ROOT || '/var/task';

function errorBody(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  return JSON.stringify({ errorMessage: e.message, errorType: e.name || 'Error', stackTrace: (e.stack || '').split('\\n').slice(1) });
}

async function post(url, body, errorType) {
  const headers = { 'content-type': 'application/json' };
  if (errorType) headers['Lambda-Runtime-Function-Error-Type'] = errorType;
  const res = await fetch(url, { method: 'POST', headers, body });
  await res.arrayBuffer();
}

async function loadHandler() {
  const spec = process.env._HANDLER || 'index.handler';
  const dot = spec.lastIndexOf('.');
  const file = spec.slice(0, dot);
  const name = spec.slice(dot + 1);
  const found = ['.mjs', '.js', '.cjs'].map((ext) => path.join(root, file + ext)).find((p) => existsSync(p));
  if (dot < 1 || !found) throw Object.assign(new Error(\`Cannot find module \${file} in \${root} (_HANDLER=\${spec})\`), { name: 'Runtime.ImportModuleError' });
  const mod = await import(pathToFileURL(found).href);
  const fn = mod[name] ?? mod.default?.[name];
  if (typeof fn !== 'function') throw Object.assign(new Error(\`\${file}.\${name} is not a function\`), { name: 'Runtime.HandlerNotFound' });
  return fn;
}

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (err) {
    await post(\`\${api}/init/error\`, errorBody(err), err.name || 'Runtime.Unknown');
    process.exit(1);
  }
  for (;;) {
    const next = await fetch(\`\${api}/invocation/next\`);
    const id = next.headers.get('lambda-runtime-aws-request-id');
    const deadline = Number(next.headers.get('lambda-runtime-deadline-ms')) || Date.now() + 30000;
    const trace = next.headers.get('lambda-runtime-trace-id');
    if (trace) process.env._X_AMZN_TRACE_ID = trace;
    const text = await next.text();
    let event;
    try {
      event = text === '' ? {} : JSON.parse(text);
    } catch {
      event = text;
    }
    const context = {
      awsRequestId: id,
      invokedFunctionArn: next.headers.get('lambda-runtime-invoked-function-arn'),
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    try {
      const result = await handler(event, context);
      await post(\`\${api}/invocation/\${id}/response\`, JSON.stringify(result === undefined ? null : result));
    } catch (err) {
      await post(\`\${api}/invocation/\${id}/error\`, errorBody(err), (err && err.name) || 'Error');
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

export function lambdaNodeTemplate(_name: string): TemplateFiles {
  return { 'index.mjs': file(HANDLER), bootstrap: file(BOOTSTRAP, 0o755) };
}
