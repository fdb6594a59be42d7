// The Lambda Invoke API front door through the real, unmodified AWS CLI (version 2, Debian's
// `awscli`, which scripts/deps.sh installs): `aws lambda invoke --endpoint-url`, as a Lambda
// user calls a function, against a real server on SQLite with a real lambda fn.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { lambdaFixtureImage } from '../helpers/lambda-images.js';

/** Debian's AWS CLI v2; not whatever `aws` comes first on PATH. */
const AWS = '/usr/bin/aws';

interface CliRun { code: number; stdout: string; stderr: string }

describe('the Lambda Invoke API through the AWS CLI', () => {
  let s: AgentSuite;
  let dir: string;
  let fn: { id: string; name: string };

  /** `aws lambda ...` with no profile, config file or pager: only what the command line says. */
  const lambda = (args: string[]): Promise<CliRun> => new Promise((resolve) => {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir,
      AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_PAGER: '',
      AWS_MAX_ATTEMPTS: '1',
    };
    execFile(AWS, ['lambda', ...args, '--endpoint-url', s.srv.url], { env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
  const aws = (args: string[]) => lambda(['invoke', '--cli-binary-format', 'raw-in-base64-out', ...args]);
  const out = (name: string) => join(dir, name);
  const json = async (file: string): Promise<any> => JSON.parse(await readFile(file, 'utf8'));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-awscli-'));
    s = await agentSuite('aws-cli');
    fn = await s.mkFn('cli-echo', { image: await lambdaFixtureImage('node-runtime'), format: 'lambda' });
  });
  after(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('invoke by name with --log-type Tail: StatusCode 200, the payload in the outfile, START/END/REPORT in LogResult', async () => {
    const r = await aws(['--function-name', fn.name, '--payload', JSON.stringify({ action: 'echo', from: 'cli' }), '--log-type', 'Tail', out('ok.json')]);
    assert.equal(r.code, 0, r.stderr);
    const meta = JSON.parse(r.stdout);
    assert.equal(meta.StatusCode, 200);
    assert.equal(meta.ExecutedVersion, '$LATEST');
    assert.equal(meta.FunctionError, undefined);
    const body = await json(out('ok.json'));
    assert.deepEqual(body.echo, { action: 'echo', from: 'cli' });
    const id = body.headers['lambda-runtime-aws-request-id'] as string;
    const log = Buffer.from(meta.LogResult, 'base64').toString('utf8');
    assert.match(log, new RegExp(`START RequestId: ${id} Version: \\$LATEST`));
    assert.match(log, new RegExp(`REPORT RequestId: ${id}\\tDuration: `));
  });

  test('invoke by ARN and by id', async () => {
    for (const name of [`arn:aws:lambda:us-east-1:012345678912:function:${fn.name}`, fn.id]) {
      const r = await aws(['--function-name', name, '--payload', '{"n":1}', out('arn.json')]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((await json(out('arn.json'))).echo, { n: 1 });
    }
  });

  test('a function error: FunctionError Unhandled, the error JSON in the outfile, exit code 0', async () => {
    const r = await aws(['--function-name', fn.name, '--payload', '{"action":"error"}', out('err.json')]);
    assert.equal(r.code, 0, r.stderr);
    const meta = JSON.parse(r.stdout);
    assert.equal(meta.StatusCode, 200);
    assert.equal(meta.FunctionError, 'Unhandled');
    assert.deepEqual(await json(out('err.json')), { errorMessage: 'it failed', errorType: 'MyError', stackTrace: ['at handler'] });
  });

  test('--invocation-type Event is 202 and DryRun 204', async () => {
    const event = await aws(['--function-name', fn.name, '--invocation-type', 'Event', '--payload', '{}', out('event.json')]);
    assert.equal(event.code, 0, event.stderr);
    assert.equal(JSON.parse(event.stdout).StatusCode, 202);
    const dry = await aws(['--function-name', fn.name, '--invocation-type', 'DryRun', out('dry.json')]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(JSON.parse(dry.stdout).StatusCode, 204);
  });

  test('the CLI names Kiln\'s errors by their Lambda types', async () => {
    const missing = await aws(['--function-name', 'no-such-fn', out('missing.json')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /\(ResourceNotFoundException\) when calling the Invoke operation.*: Function not found: arn:aws:lambda:us-east-1:012345678912:function:no-such-fn/);
    const notJson = await aws(['--function-name', fn.name, '--payload', 'not json', out('bad.json')]);
    assert.notEqual(notJson.code, 0);
    assert.match(notJson.stderr, /\(InvalidRequestContentException\) when calling the Invoke operation/);
    const qualifier = await aws(['--function-name', fn.name, '--qualifier', '7', out('q.json')]);
    assert.match(qualifier.stderr, /\(ResourceNotFoundException\) when calling the Invoke operation/);
  });

  test('operations Kiln does not serve are UnknownOperationException, which the CLI names', async () => {
    for (const [args, op] of [[['list-functions'], 'ListFunctions'], [['get-function', '--function-name', fn.name], 'GetFunction'], [['get-account-settings'], 'GetAccountSettings']] as const) {
      const r = await lambda([...args]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`\\(UnknownOperationException\\) when calling the ${op} operation.*: Kiln serves the Lambda API's Invoke and InvokeWithResponseStream only`), r.stderr);
    }
  });
});
