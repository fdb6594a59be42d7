// `kiln init --runtime lambda-node`: a Lambda handler (index.mjs) with a small Node custom
// runtime (bootstrap) speaking the Lambda Runtime API, so it needs no AWS runtime client. The
// bootstrap is one file in the function (no module of the user's can clash with its parts),
// put together here from the parts in this directory.
import { file, type TemplateFiles } from '../types.js';
import { RUNTIME_API } from './api.js';
import { CONSOLE } from './console.js';
import { CONTEXT } from './context.js';
import { LOADER } from './loader.js';
import { LOOP } from './loop.js';
import { STREAMING } from './streaming.js';

const HANDLER = `// Lambda handler: the event is the invoke's JSON body; the answer is JSON-encoded.
export const handler = async (event, context) => {
  const name = (event && typeof event === 'object' && event.name) || 'World';
  console.log(\`request \${context.awsRequestId} for \${name}\`);
  return { message: \`Hello \${name}\` };
};
`;

// Runs as /var/task/bootstrap with the image's node (kiln/node has no /usr/bin/env).
const HEAD = String.raw`#!/usr/local/bin/node
// A Lambda custom runtime for Node.js handlers, written by kiln init --runtime lambda-node.
// It follows AWS's managed Node.js runtime (its runtime interface client): _HANDLER
// ([dir/]module.export[.nested], default index.handler; the module a .js, .mjs or .cjs file
// under LAMBDA_TASK_ROOT, else found as Node finds a package) names the handler, which may be
//   async (event, context) => result
//   (event, context, callback) => callback(error, result)
//   awslambda.streamifyResponse(async (event, responseStream, context) => { ... })
// and console writes Lambda's log lines (AWS_LAMBDA_LOG_FORMAT Text or JSON). Node alone runs it.
'use strict';
// Node runs this file as an ES module when the function's package.json says "type": "module"
// (then there is no require): the built-ins come from process.getBuiltinModule there.
const builtin = typeof require === 'function' ? require : (name) => process.getBuiltinModule(name);
const http = builtin('node:http');
const path = builtin('node:path');
const util = builtin('node:util');
const { existsSync, readFileSync } = builtin('node:fs');
const { Writable } = builtin('node:stream');
const { pathToFileURL } = builtin('node:url');
// As the managed runtime's bootstrap: NODE_PATH, when unset, is a layer's folders (/opt/nodejs),
// the runtime's and the task root; Node read it at start-up, so require is told to read it again.
if (!process.env.NODE_PATH) {
  const major = process.versions.node.split('.')[0];
  process.env.NODE_PATH = ['/opt/nodejs/node' + major + '/node_modules', '/opt/nodejs/node_modules', '/var/runtime/node_modules', '/var/runtime', '/var/task'].join(':');
  builtin('node:module')._initPaths?.();
}
`;

/** The bootstrap: each part is a section of one script, in this order (later parts use earlier ones). */
export const BOOTSTRAP = [HEAD, RUNTIME_API, CONSOLE, CONTEXT, STREAMING, LOADER, LOOP].join('\n');

export function lambdaNodeTemplate(_name: string): TemplateFiles {
  return { 'index.mjs': file(HANDLER), bootstrap: file(BOOTSTRAP, 0o755) };
}
