// Where `kiln` refused or did differently what `fn` (fnproject/cli) does, end to end: a real
// server, the CLI as a subprocess. Each test names the fn behaviour it follows.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cliRunners } from '../helpers/cli.js';
import { cliWorld } from '../helpers/cli-world.js';
import { call, type TestServer } from '../helpers/server.js';

const P = `fg${process.pid}`; // names no other test process uses

let srv: TestServer;
let work = '';
let env: Record<string, string> = {};

const runners = cliRunners(() => env);
const ok = async (args: string[]): Promise<string> => (await runners.ok(args, work)).stdout;
const fails = (args: string[], re: RegExp) => runners.fails(args, work, re);

cliWorld(P, (w) => ({ srv, work, env } = w));

async function triggerSources(app: string): Promise<string[]> {
  const apps = (await call<{ items: Array<{ id: string; name: string }> }>(srv.url, 'GET', `/v2/apps?name=${app}`)).body.items;
  const items = (await call<{ items: Array<{ source: string }> }>(srv.url, 'GET', `/v2/triggers?app_id=${apps[0]!.id}`)).body.items;
  return items.map((t) => t.source).sort();
}

describe('create trigger --source', () => {
  test("a source without its leading / gets one, as fn's validateTriggerSource", async () => {
    const app = `${P}-src`;
    await ok(['create', 'app', app]);
    await ok(['create', 'fn', app, 'f', 'kiln-examples/hello:0.0.1']);
    assert.match(await ok(['create', 'trigger', app, 'f', 't4', '--source', 't4']), new RegExp(`Trigger Endpoint: ${srv.url}/t/${app}/t4\\n`));
    await ok(['update', 'trigger', app, 'f', 't4', '--source', 'u4']);
    assert.deepEqual(await triggerSources(app), ['/u4']);
  });
});

describe('inspect --endpoint', () => {
  test("fn and trigger print the endpoint annotation alone, as text (fn's inspect --endpoint)", async () => {
    const app = `${P}-ep`;
    await ok(['create', 'app', app]);
    await ok(['create', 'fn', app, 'f', 'kiln-examples/hello:0.0.1']);
    await ok(['create', 'trigger', app, 'f', 't', '--source', '/t']);
    const fn = JSON.parse(await ok(['inspect', 'fn', app, 'f'])) as { id: string; annotations: Record<string, string> };
    assert.equal(await ok(['inspect', 'fn', app, 'f', '--endpoint']), `${fn.annotations['fnproject.io/fn/invokeEndpoint']}\n`);
    assert.match(await ok(['inspect', 'fn', app, 'f', '--endpoint']), new RegExp(`^${srv.url}/invoke/${fn.id}\\n$`));
    // Text whatever -o says, and a PROPERTY is ignored, as fn's.
    assert.equal(await ok(['-o', 'json', 'inspect', 'trigger', app, 'f', 't', 'name', '--endpoint']), `${srv.url}/t/${app}/t\n`);
  });
});

describe('delete fn -f -r', () => {
  test("fn's flags are accepted; the fn goes with its triggers", async () => {
    const app = `${P}-del`;
    await ok(['create', 'app', app]);
    await ok(['create', 'fn', app, 'f', 'kiln-examples/hello:0.0.1']);
    await ok(['create', 'trigger', app, 'f', 't', '--source', '/t']);
    assert.equal(await ok(['delete', 'fn', app, 'f', '-f', '-r']), 'Successfully deleted function: f\n');
    await ok(['create', 'fn', app, 'g', 'kiln-examples/hello:0.0.1']);
    await ok(['delete', 'fn', app, 'g', '--force', '--recursive']);
    assert.deepEqual(await triggerSources(app), []);
    await fails(['inspect', 'fn', app, 'g'], /function "g" not found/);
  });
});

describe('invoke --display-call-id', () => {
  test("a failed call's id is on stdout too, as fn's client.Invoke prints it before the status", async () => {
    const app = `${P}-cid`;
    await ok(['create', 'app', app]);
    await ok(['create', 'fn', app, 'f', `${P}-does-not-exist:1`]);
    const r = await fails(['invoke', app, 'f', '--display-call-id'], new RegExp(`function ${app}/f failed \\(HTTP 502\\)`));
    const id = /^Call ID: ([0-9A-Z]{26})\n$/.exec(r.stdout)?.[1];
    assert.ok(id, `stdout: ${r.stdout}`);
    assert.match(r.stderr, new RegExp(`Call ${id}: `), 'the hint names the call as before');
    // Without the flag, nothing on stdout.
    assert.equal((await fails(['invoke', app, 'f'], /failed \(HTTP 502\)/)).stdout, '');
  });
});

describe('init --annotation', () => {
  test('accepted and ignored, as fn init (its bindFn drops them), with a note on stderr', async () => {
    const name = `${P}-ann`;
    const r = await runners.ok(['init', '--runtime', 'node', '--name', name, '--annotation', 'a=1', '--annotation', 'team="x"'], work);
    assert.match(r.stderr, /^Note: --annotation is ignored, as fn init ignores it: nothing is written for it\./m);
    assert.doesNotMatch(await readFile(join(work, name, 'func.yaml'), 'utf8'), /annotations|team/);
    // No note without it.
    assert.doesNotMatch((await runners.ok(['init', '--runtime', 'node', '--name', `${name}2`], work)).stderr, /annotation/);
  });
});

describe('contexts: --provider and any key, as fn', () => {
  test("create context --provider is written (fn's default: default); update context sets, keeps and --deletes any key", async () => {
    const dir = join(work, 'ctx-provider');
    const run = (args: string[]) => runners.ok(args, work, { KILN_CONFIG_DIR: dir, FN_API_URL: '' });
    const file = (name: string) => readFile(join(dir, 'contexts', `${name}.yaml`), 'utf8');
    await run(['create', 'context', 'plain']);
    assert.match(await file('plain'), /^provider: default$/m);
    const oci = await run(['create', 'context', 'oci', '--provider', 'oracle', '--api-url', 'http://127.0.0.1:9']);
    assert.match(await file('oci'), /^provider: oracle$/m);
    assert.match(oci.stderr, /provider "oracle" is recorded in the context only/);
    await run(['use', 'context', 'plain']);
    await run(['update', 'context', 'provider', 'oracle-ip']);
    await run(['update', 'context', 'oracle.compartment-id', 'ocid1.x']);
    await run(['update', 'context', 'registry', 'me']); // a later save keeps the key kiln does not use
    const ctx = JSON.parse((await run(['inspect', 'context'])).stdout) as Record<string, string>;
    assert.equal(ctx.provider, 'oracle-ip');
    assert.equal(ctx['oracle.compartment-id'], 'ocid1.x');
    assert.match(await file('plain'), /^oracle\.compartment-id: ocid1\.x$/m);
    await run(['update', 'context', 'oracle.compartment-id', '--delete']);
    assert.doesNotMatch(await file('plain'), /compartment/);
    const r = await runners.kiln(['update', 'context', 'oracle.compartment-id', '--delete'], work, { KILN_CONFIG_DIR: dir, FN_API_URL: '' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /context file does not contain key: oracle\.compartment-id/);
    assert.match(await file('plain'), /^registry: me$/m);
  });
});
