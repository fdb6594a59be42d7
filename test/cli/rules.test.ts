// The CLI's rules as pure functions, table-driven: what a failed call's answer says (Fn, Lambda,
// plain text), how deploy reconciles func.yaml's triggers with the app's, how `config` reads
// its arguments (with fn's `KEY VALUE`), fn's `update context KEY [VALUE] [--delete]` and fn's global flags.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiHint, type Trigger } from '../../cli/client.js';
import { configAction } from '../../cli/commands/config.js';
import { changeKey } from '../../cli/commands/context.js';
import { DEFAULT_API_URL, type KilnContext } from '../../cli/context.js';
import { CliError } from '../../cli/errors.js';
import { asksVersion, takeGlobalFlags, type GlobalFlags } from '../../cli/global-flags.js';
import { planAll, planTriggers } from '../../cli/deploy.js';
import { callFailure, failureLine, type CallFailure } from '../../cli/invoke.js';
import type { FuncTrigger } from '../../images/func-yaml.js';

describe('callFailure', () => {
  const lambdaBody = JSON.stringify({ errorType: 'MyError', errorMessage: 'boom', stackTrace: ['  at a (index.mjs:3:9)', 'at b', 7] });
  const cases: Array<[string, Record<string, string>, string, CallFailure, string]> = [
    ['a Lambda error with its stack', { 'x-amz-function-error': 'MyError' }, lambdaBody, { type: 'MyError', message: 'boom', stack: ['at a (index.mjs:3:9)', 'at b'] }, 'MyError: boom'],
    [
      "a Node.js Lambda error: its trace, without the lines that are the error's own",
      {},
      JSON.stringify({ errorType: 'Error', errorMessage: 'two\nlines', trace: ['Error: two', 'lines', '    at handler (file:///var/task/index.mjs:3:9)', '    at x'] }),
      { type: 'Error', message: 'two\nlines', stack: ['at handler (file:///var/task/index.mjs:3:9)', 'at x'] },
      'Error: two\nlines',
    ],
    [
      'a Lambda error whose body has no type: the header names it',
      { 'x-amz-function-error': 'Unhandled' },
      '{"errorMessage":"no type"}',
      { type: 'Unhandled', message: 'no type', stack: [] },
      'Unhandled: no type',
    ],
    [
      'a Lambda runtime error with no message',
      {},
      '{"errorType":"Runtime.ExitError"}',
      { type: 'Runtime.ExitError', message: 'no message', stack: [] },
      'Runtime.ExitError: no message',
    ],
    ["Fn's error body with the FDK's detail", {}, '{"message":"error from function","detail":"x failed"}', { message: 'error from function (x failed)', stack: [] }, 'error from function (x failed)'],
    ['plain text', {}, 'it broke\n', { message: 'it broke', stack: [] }, 'it broke'],
    ['plain text under a Lambda header', { 'x-amz-function-error': 'Runtime.Timeout' }, 'late', { type: 'Runtime.Timeout', message: 'late', stack: [] }, 'Runtime.Timeout: late'],
    ['an empty body', {}, '', { message: 'no message', stack: [] }, 'no message'],
    ['a JSON list', {}, '[1]', { message: '[1]', stack: [] }, '[1]'],
  ];
  for (const [name, headers, body, want, line] of cases) {
    test(name, () => {
      const f = callFailure(new Headers(headers), body);
      assert.deepEqual(f, want);
      assert.equal(failureLine(f), line);
    });
  }
  test('a long text body is cut at 500 characters', () => {
    const f = callFailure(new Headers(), 'x'.repeat(2000));
    assert.equal(f.message, `${'x'.repeat(500)}…`);
  });
});

describe('planTriggers', () => {
  const t = (name: string, source: string, fn_id = 'F'): Trigger => ({
    id: `id-${name}`, name, app_id: 'A', fn_id, type: 'http', source, annotations: {}, created_at: '', updated_at: '',
  });
  const w = (name: string, source: string): FuncTrigger => ({ name, type: 'http', source });
  /** Each step as `op name[<-old]`, then the unlisted triggers' names. */
  const show = (wanted: FuncTrigger[], app: Trigger[], fnId: string | undefined): string[] => {
    const p = planTriggers(wanted, app, fnId);
    return [
      ...p.steps.map((s) => (s.op === 'create' ? `create ${s.want.name}` : s.op === 'keep' ? `keep ${s.existing.name}` : `update ${s.want.name}<-${s.existing.name}`)),
      ...p.unlisted.map((u) => `unlisted ${u.name}`),
      ...p.clashes.map((c) => `clash ${c.want.name}<-${c.other.fn_id}:${c.other.name}`),
      ...p.moves.map((m) => `move ${m.name}`),
    ];
  };
  const cases: Array<[string, FuncTrigger[], Trigger[], string | undefined, string[]]> = [
    ['a new fn: every trigger is created', [w('a', '/a'), w('b', '/b')], [], undefined, ['create a', 'create b']],
    ['unchanged triggers are kept', [w('a', '/a')], [t('a', '/a')], 'F', ['keep a']],
    ['a changed source is updated', [w('a', '/a2')], [t('a', '/a')], 'F', ['update a<-a']],
    ["another fn's trigger of that name and source is a clash, never moved to this fn", [w('a', '/a')], [t('a', '/a', 'G')], 'F', ['create a', 'clash a<-G:a']],
    ["another fn's trigger of that name with another source is no clash (names are per fn): this fn gets its own", [w('a', '/b')], [t('a', '/a', 'G')], 'F', ['create a']],
    ["another fn's trigger with that source under another name is a clash", [w('b', '/a')], [t('a', '/a', 'G')], 'F', ['create b', 'clash b<-G:a']],
    ['a new fn clashes with an existing fn\'s source too', [w('a', '/a')], [t('x', '/a', 'G')], undefined, ['create a', 'clash a<-G:x']],
    ["a source of another type is no clash", [{ name: 'a', type: 'cron', source: '/a' }], [t('x', '/a', 'G')], 'F', ['create a']],
    ['a renamed trigger (same source) renames the old one', [w('b', '/a')], [t('a', '/a')], 'F', ['update b<-a']],
    ["triggers func.yaml no longer lists are kept and reported", [w('a', '/a')], [t('a', '/a'), t('old', '/old')], 'F', ['keep a', 'unlisted old']],
    ["other fns' triggers are not this fn's to report", [w('a', '/a')], [t('a', '/a'), t('g', '/g', 'G')], 'F', ['keep a']],
    ['no triggers in func.yaml: the fn keeps its own', [], [t('a', '/a')], 'F', ['unlisted a']],
    // Among the fn's own triggers: a source another of them holds is moved out of the way first.
    ['two of its triggers swap sources: both are moved out of the way first', [w('a', '/y'), w('b', '/x')], [t('a', '/x'), t('b', '/y')], 'F', ['update a<-a', 'update b<-b', 'move b', 'move a']],
    ['a chain (b leaves /y, a takes it): b is moved first', [w('a', '/y'), w('b', '/z')], [t('a', '/x'), t('b', '/y')], 'F', ['update a<-a', 'update b<-b', 'move b']],
    ['a new trigger at the source one of its own leaves', [w('c', '/x'), w('a', '/z')], [t('a', '/x')], 'F', ['create c', 'update a<-a', 'move a']],
    ['a source one of its own unlisted triggers keeps is a clash', [w('a', '/y')], [t('a', '/x'), t('old', '/y')], 'F', ['update a<-a', 'unlisted old', 'clash a<-F:old']],
  ];
  for (const [name, wanted, app, fnId, want] of cases) test(name, () => assert.deepEqual(show(wanted, app, fnId), want));
});

describe('planAll (deploy --all, in its order)', () => {
  const t = (name: string, source: string, fn_id: string): Trigger => ({
    id: `id-${fn_id}-${name}`, name, app_id: 'A', fn_id, type: 'http', source, annotations: {}, created_at: '', updated_at: '',
  });
  const fn = (name: string, ...sources: string[]) => ({ name, triggers: sources.map((s, i): FuncTrigger => ({ name: `t${i}`, type: 'http', source: s })) });
  const ids = new Map([['a', 'A1'], ['b', 'B1']]);
  /** Each fn's clashes as `fn:want<-holder fn:trigger`. */
  const show = (app: Trigger[], fns: Array<ReturnType<typeof fn>>): string[] =>
    planAll(app, ids, fns).flatMap((p, i) => p.clashes.map((c) => `${fns[i]!.name}:${c.want.source}<-${c.other.fn_id}:${c.other.name}`));
  const cases: Array<[string, Trigger[], Array<ReturnType<typeof fn>>, string[]]> = [
    ["a source another fn of the app holds on the server, and keeps", [t('o', '/x', 'O1')], [fn('a', '/a'), fn('b', '/x')], ['b:/x<-O1:o']],
    ['a source an earlier fn of the run frees is no clash', [t('t0', '/x', 'B1')], [fn('b', '/z'), fn('a', '/x')], []],
    ['a source a later fn frees is a clash still (it holds it when this one deploys)', [t('t0', '/x', 'B1')], [fn('a', '/x'), fn('b', '/z')], ['a:/x<-B1:t0']],
    ["a trigger an earlier fn keeps (its func.yaml no longer lists it) still holds its source", [t('old', '/u', 'B1')], [fn('b', '/b'), fn('a', '/u')], ['a:/u<-B1:old']],
    ['a new fn: none of its own on the server', [], [fn('c', '/c'), fn('a', '/a')], []],
  ];
  for (const [name, app, fns, want] of cases) test(name, () => assert.deepEqual(show(app, fns), want));
});

describe('configAction', () => {
  const cases: Array<[string[], { action: string; key?: string; value?: string }]> = [
    [[], { action: 'list' }],
    [['list'], { action: 'list' }],
    [['get', 'K'], { action: 'get', key: 'K' }],
    [['set', 'K', 'v w'], { action: 'set', key: 'K', value: 'v w' }],
    [['unset', 'K'], { action: 'unset', key: 'K' }],
    [['K', 'v'], { action: 'set', key: 'K', value: 'v' }], // fn's `config app APP KEY VALUE`
    [['frob'], { action: 'frob' }], // refused later, with the actions listed
    [['frob', 'a', 'b'], { action: 'frob', key: 'a', value: 'b' }],
  ];
  for (const [args, want] of cases) test(JSON.stringify(args), () => assert.deepEqual(configAction(args), want));
});

describe("fn's update context KEY [VALUE] [--delete]", () => {
  const base: KilnContext = { name: 'c', 'api-url': 'http://old:1', token: 't', provider: 'default', other: { 'oracle.profile': 'p' } };
  const { name: _n, ...fields } = base;
  // [key, value, --delete, the context's fields after]
  const cases: Array<[string, string | undefined, boolean, object]> = [
    ['api-url', 'http://h:1', false, { ...fields, 'api-url': 'http://h:1' }],
    ['api-url', undefined, false, { ...fields, 'api-url': DEFAULT_API_URL }],
    ['api-url', undefined, true, { ...fields, 'api-url': DEFAULT_API_URL }],
    ['registry', 'me', false, { ...fields, registry: 'me' }],
    ['token', undefined, false, { 'api-url': 'http://old:1', provider: 'default', other: fields.other }],
    ['token', 'ignored', true, { 'api-url': 'http://old:1', provider: 'default', other: fields.other }],
    ['provider', 'oracle', false, { ...fields, provider: 'oracle' }],
    ['provider', undefined, true, { 'api-url': 'http://old:1', token: 't', other: fields.other }],
    // Any other key, as fn's ContextMap.Set: written and kept.
    ['oracle.compartment-id', 'ocid1', false, { ...fields, other: { 'oracle.profile': 'p', 'oracle.compartment-id': 'ocid1' } }],
    ['oracle.profile', undefined, true, { 'api-url': 'http://old:1', token: 't', provider: 'default' }],
  ];
  for (const [key, value, remove, want] of cases) {
    test(`${key} ${value ?? '(none)'}${remove ? ' --delete' : ''}`, () => {
      const { name, ...got } = changeKey(base, key, value, remove).ctx;
      assert.equal(name, 'c');
      assert.deepEqual(got, want);
    });
  }
  test("--delete of a key the context lacks is fn's error; a bad API URL is refused", () => {
    assert.throws(() => changeKey(base, 'registry', undefined, true), /^CliError: context file does not contain key: registry$|context file does not contain key: registry/);
    assert.throws(() => changeKey(base, 'nope', undefined, true), /context file does not contain key: nope/);
    assert.throws(() => changeKey(base, 'api-url', 'h:1', false), /no scheme/);
  });
  test('a key kiln does not use, or a provider other than fn\'s default, is noted', () => {
    assert.match(changeKey(base, 'x', 'y', false).note, /kiln does not use context key "x"/);
    assert.match(changeKey(base, 'provider', 'oracle', false).note, /provider "oracle" is recorded in the context only/);
    assert.equal(changeKey(base, 'provider', 'default', false).note, '');
    assert.equal(changeKey(base, 'registry', 'r', false).note, '');
  });
});

describe('apiHint', () => {
  const cases: Array<[number, RegExp | undefined]> = [
    [401, /wants a valid token: `kiln context update --token TOKEN` \(or set FN_TOKEN\)/],
    // A Host refusal (a server without tokens): no token would help.
    [403, /answers only to localhost, IP addresses and the names in its KILN_ALLOWED_HOSTS/],
    [409, /name is taken/],
    [400, /Check the values given/],
    [413, /Check the values given/],
    [500, /server at http:\/\/h:1 failed; its log says why/],
    [503, /cannot do this for now, as its message says: try again shortly\. If it goes on, its log says why/],
    [404, undefined], // the command knows better (e.g. `kiln calls APP FN`)
  ];
  for (const [status, re] of cases) {
    test(String(status), () => {
      const h = apiHint(status, 'http://h:1');
      if (re) assert.match(h ?? '', re);
      else assert.equal(h, undefined);
    });
  }
  // A 409 as the server's message says: a trigger's source taken is no name taken.
  const conflicts: Array<[string, RegExp]> = [
    ['Trigger with the same type and source exists on this app', /^The trigger's source is taken: another trigger of the app has it/],
    ['Trigger already exists', /name is taken/],
    ['App already exists', /name is taken/],
    ['Could not update - name is immutable', /name cannot be changed/],
  ];
  test('503 with Retry-After: when to try again', () => {
    assert.match(apiHint(503, 'http://h:1', 'database unavailable', '15') ?? '', /try again in 15 s, as the server asks/);
    // A date or junk is not repeated as if it were seconds.
    assert.match(apiHint(503, 'http://h:1', '', 'Wed, 21 Oct 2015 07:28:00 GMT') ?? '', /try again shortly/);
  });
  for (const [message, re] of conflicts) test(`409 ${message}`, () => assert.match(apiHint(409, 'http://h:1', message) ?? '', re));
});

describe("fn's global flags: taken before the command only", () => {
  const cases: Array<[string[], GlobalFlags, string[]]> = [
    [['list', 'apps'], {}, ['list', 'apps']],
    [['--verbose', 'list', 'apps'], { verbose: true }, ['list', 'apps']],
    [['-v', 'deploy', '--app', 'a'], { verbose: true }, ['deploy', '--app', 'a']],
    [['--context', 'c1', '--registry=r', 'build'], { context: 'c1', registry: 'r' }, ['build']],
    [['-o', 'json', '--context=c', 'list', 'apps'], { context: 'c' }, ['-o', 'json', 'list', 'apps']],
    [['-ojson', '--output=json', '-v', 'ls', 'a'], { verbose: true }, ['-ojson', '--output=json', 'ls', 'a']],
    // After the command they are the command's (build -v, context create --registry).
    [['deploy', '-v', '--registry', 'r'], {}, ['deploy', '-v', '--registry', 'r']],
    [['context', 'create', 'x', '--registry', 'r'], {}, ['context', 'create', 'x', '--registry', 'r']],
    // An unknown option ends them: commander reports it.
    [['--bogus', '-v', 'list'], {}, ['--bogus', '-v', 'list']],
  ];
  for (const [args, globals, rest] of cases) {
    test(args.join(' '), () => assert.deepEqual(takeGlobalFlags(args), { globals, rest }));
  }
  test('a valued flag without its value is refused', () => {
    assert.throws(() => takeGlobalFlags(['--context']), (e: unknown) => e instanceof CliError && /--context needs a value/.test(e.message));
    assert.throws(() => takeGlobalFlags(['--registry=', 'build']), /--registry needs a value/);
  });
  const version: Array<[string[], boolean]> = [
    [['--version'], true],
    [['-o', 'json', '--version'], true],
    [['-ojson', '--output=json', '--version'], true],
    [['init', '--version', '1.0.0'], false], // init's own
    [['-o', '--version'], false], // -o's value, which commander then refuses
    [[], false],
  ];
  for (const [rest, want] of version) test(`asksVersion ${rest.join(' ')}`, () => assert.equal(asksVersion(rest), want));
});
