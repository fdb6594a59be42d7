// README documents every setting and its default (a project rule): these check it against what
// the server reads (api/config.ts's envSchema) and what the Lambda daemon reads (runtime/).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { envSchema, loadConfig, type Config } from '../../api/config.js';
import { unknownKilnSettings } from '../../api/unknown-settings.js';
import { loadDaemonConfig } from '../../runtime/config.js';
import { DAEMON_ENV } from '../../runtime/wire.js';
import { section, tables, variableNames } from '../helpers/readme-tables.js';

// dist/test/unit/ -> the checkout's root.
const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const SETTINGS = section(README, '## Settings');
const SCHEMA_KEYS = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];
const isSchemaKey = (name: string): name is keyof typeof envSchema.shape => Object.hasOwn(envSchema.shape, name);

/** A settings table row: the variable and the default cell as README writes it. */
interface SettingRow {
  name: string;
  default: string;
}

/** The rows of the Settings section's tables that have a `variable` and a `default` column. */
function settingRows(): SettingRow[] {
  const rows: SettingRow[] = [];
  for (const t of tables(SETTINGS)) {
    const nameAt = t.header.indexOf('variable');
    const defaultAt = t.header.indexOf('default');
    if (nameAt < 0 || defaultAt < 0) continue;
    for (const r of t.rows) {
      for (const name of variableNames(r[nameAt] ?? '')) rows.push({ name, default: r[defaultAt] ?? '' });
    }
  }
  return rows;
}

/**
 * What a default cell states: a literal (its first word in backticks: "`6291456` (6 MiB)" is
 * 6291456), `unset`, or only a description ("the host name ..."), which is not compared.
 */
function statedDefault(cell: string): { literal: string } | 'unset' | 'described' {
  const literal = /^`([^`]*)`/.exec(cell);
  if (literal) return { literal: literal[1] ?? '' };
  return /^unset\b/i.test(cell) ? 'unset' : 'described';
}

/** Settings in the tables that envSchema does not hold: each is read from the raw environment. */
const READ_OUTSIDE_SCHEMA = new Set([
  'DOCKER_CONFIG', // loadConfig reads it (and HOME) raw: where registry credentials are.
]);

/**
 * Settings with no default in envSchema whose default loadConfig applies: README's literal for
 * them is compared with what loadConfig({}) makes of the unset variable.
 */
const DEFAULTED_BY_LOAD_CONFIG: Record<string, (c: Config) => string> = {
  KILN_TRUST_PROXY: (c) => String(c.trustProxy),
  KILN_ALLOWED_NETWORKS: (c) => c.agent.allowedNetworks.join(','),
  FN_IOFS_PATH: (c) => c.agent.iofsPath,
};

/** README's `$TMPDIR` is the temp directory the server would use. */
const expand = (literal: string): string => literal.replace(/^\$TMPDIR(?=\/|$)/, tmpdir());

/**
 * FN_ and KILN_ names README uses that are no setting of the server's nor the daemon's, by
 * what they are. A name README gives that is in none of these, nor read by the server, fails:
 * add it here only if it is indeed not a server setting.
 */
const NOT_SERVER_SETTINGS = {
  // The kiln CLI's (README's CLI section).
  cli: ['FN_API_URL', 'FN_TOKEN', 'FN_REGISTRY', 'KILN_CONFIG_DIR'],
  // docker-compose.yml's (README's Several nodes with Docker Compose).
  compose: [
    'KILN_IMAGE', 'KILN_DOCKERFILE', 'KILN_BUILD_IMAGE', 'KILN_NODE_IMAGE', 'KILN_POSTGRES_IMAGE', 'KILN_DB_PASSWORD',
    'KILN_SHARED_DIR', 'KILN_1_PORT', 'KILN_2_PORT', 'KILN_BIND', 'KILN_NODE_ID_PREFIX',
  ],
  // The scripts', tests' and benchmarks' (README's Test and benchmark settings, bench/).
  tooling: [
    'KILN_TEST_PG_URL', 'KILN_BENCH_PG_URL', 'KILN_PG_USER', 'KILN_PG_PASSWORD', 'KILN_TEST_MYSQL_URL',
    'KILN_MYSQL_USER', 'KILN_MYSQL_PASSWORD', 'KILN_MYSQLD_LOG', 'KILN_TEST_COMPOSE', 'KILN_DOCKERD_LOG',
    'KILN_UP_ONCE', 'KILN_TEST_NODE_PREFIX', 'KILN_TEST_DAEMON_BUNDLE', 'KILN_TEST_DB_PREFIX',
    'KILN_BENCH_N', 'KILN_BENCH_NODE_OPTIONS', 'KILN_BENCH_SECONDS',
  ],
  // What a function's container is given (Fn's contract), and what `fn init` images are run with.
  container: [
    'FN_LISTENER', 'FN_FORMAT', 'FN_APP_ID', 'FN_APP_NAME', 'FN_FN_ID', 'FN_FN_NAME', 'FN_NAME', 'FN_MEMORY', 'FN_TYPE',
    'FN_LOGFRAME_NAME', 'FN_LOGFRAME_HDR', 'FN_FUNCTION_NAME',
  ],
  // Fn's settings that Kiln does not read, named as such.
  fnUnread: ['FN_LOG_FORMAT', 'FN_HOT_POLL_MSECS', 'FN_IOFS_DOCKER_PATH'],
  // Misspellings README gives as examples of the unknown-setting warning, with what they mean.
  misspelt: ['KILN_NODEID', 'KILN_AUTH_TOKEN'],
  // A variable of a client's own in an example (the Lambda SDK's token middleware).
  exampleClient: ['KILN_TOKEN'],
  // A placeholder in the web view's routes (`#/fns/FN_ID`).
  placeholder: ['FN_ID'],
} as const;
const notServerSettings = new Set<string>(Object.values(NOT_SERVER_SETTINGS).flat());

/** The daemon settings a fn's config may set; the others only the agent sets (runtime/wire.ts). */
const DAEMON_SETTINGS_FOR_USERS = new Set<string>([DAEMON_ENV.systemLogLevel]);

test('README\'s settings tables list every setting the server reads', () => {
  const listed = new Set(settingRows().map((r) => r.name));
  const missing = SCHEMA_KEYS.filter((k) => !listed.has(k));
  assert.deepEqual(missing, [], `api/config.ts reads ${missing.join(', ')}, which README's Settings tables do not list`);
});

test('README\'s settings tables list nothing the server does not read, each once', () => {
  const names = settingRows().map((r) => r.name);
  assert.ok(names.length >= SCHEMA_KEYS.length, `only ${names.length} rows found: are the tables still "| variable | default | meaning |"?`);
  const unknown = names.filter((n) => !isSchemaKey(n) && !READ_OUTSIDE_SCHEMA.has(n));
  assert.deepEqual(unknown, [], `README's Settings tables list ${unknown.join(', ')}, which api/config.ts does not read`);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  assert.deepEqual(twice, [], `listed more than once: ${twice.join(', ')}`);
});

test('every FN_ or KILN_ name in README is a setting of the server or daemon, or listed here as something else', () => {
  const named = new Set([...README.matchAll(/\b(?:FN|KILN)_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0]));
  const unknown = [...named].filter((n) => !isSchemaKey(n) && !notServerSettings.has(n) && !DAEMON_SETTINGS_FOR_USERS.has(n)).sort();
  assert.deepEqual(unknown, [], `README names ${unknown.join(', ')}: no setting api/config.ts reads (or one a fn gives the daemon); a renamed setting, or add it to NOT_SERVER_SETTINGS saying what it is`);
  // The allow-list keeps no server setting (which would hide its absence from the tables) nor names README dropped.
  const stale = [...notServerSettings].filter((n) => isSchemaKey(n) || !named.has(n));
  assert.deepEqual(stale, [], `NOT_SERVER_SETTINGS holds ${stale.join(', ')}: a server setting, or a name README no longer uses`);
});

test('README\'s stated defaults are the server\'s', () => {
  const loaded = loadConfig({});
  const wrong: string[] = [];
  for (const row of settingRows()) {
    if (!isSchemaKey(row.name)) continue;
    const parsed = envSchema.shape[row.name].safeParse(undefined);
    assert.ok(parsed.success, `${row.name}: unset does not parse`);
    const schemaDefault: unknown = parsed.data;
    const fromLoad = DEFAULTED_BY_LOAD_CONFIG[row.name];
    const actual = schemaDefault !== undefined ? String(schemaDefault) : fromLoad?.(loaded);
    const stated = statedDefault(row.default);
    if (stated === 'described') {
      // A setting with a value by default states it, so that a reader can see it.
      if (schemaDefault !== undefined) wrong.push(`${row.name}: README describes the default ("${row.default}") where the server has ${actual}`);
    } else if (stated === 'unset') {
      if (actual !== undefined) wrong.push(`${row.name}: README says unset, the server's default is ${actual}`);
    } else if (actual === undefined) {
      wrong.push(`${row.name}: README says \`${stated.literal}\`, the server has no default (or add it to DEFAULTED_BY_LOAD_CONFIG)`);
    } else if (expand(stated.literal) !== actual) {
      wrong.push(`${row.name}: README says \`${stated.literal}\`, the server's default is ${actual}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('README\'s default for the daemon\'s one user setting, KILN_LAMBDA_SYSTEM_LOG_LEVEL, is the daemon\'s', () => {
  const key = DAEMON_ENV.systemLogLevel;
  // Where README documents it (as a fn config key), the first "`LEVEL` (default" after its name.
  const at = README.indexOf(`config \`${key}\``);
  assert.ok(at >= 0, `README documents no config \`${key}\``);
  const stated = /`([A-Z]+)` \(default/.exec(README.slice(at, at + 500))?.[1];
  // Levels apply in the JSON log format only.
  const actual = loadDaemonConfig({ AWS_LAMBDA_LOG_FORMAT: 'JSON' }).log.systemLevel;
  assert.equal(stated, actual, `README's default for ${key} is ${stated}, the daemon's ${actual}`);
});

test('the server warns about none of the KILN_ variables README gives to the CLI, compose or the scripts, and about the misspellings it shows', () => {
  const read = new Set<string>(SCHEMA_KEYS);
  const others = [...NOT_SERVER_SETTINGS.cli, ...NOT_SERVER_SETTINGS.compose, ...NOT_SERVER_SETTINGS.tooling].filter((n) => n.startsWith('KILN_'));
  const warned = unknownKilnSettings(Object.fromEntries(others.map((n) => [n, '1'])), read).map((w) => w.name);
  assert.deepEqual(warned, [], `set in a server's environment, these would be warned about as misspellings: add them to api/unknown-settings.ts`);
  assert.deepEqual(unknownKilnSettings({ KILN_NODEID: 'n', KILN_AUTH_TOKEN: 't' }, read), [
    { name: 'KILN_AUTH_TOKEN', meant: 'KILN_AUTH_TOKENS' },
    { name: 'KILN_NODEID', meant: 'KILN_NODE_ID' },
  ]);
});

test("the Fn settings README says Kiln does not read are named in start-up's warning", () => {
  const given = Object.fromEntries(NOT_SERVER_SETTINGS.fnUnread.map((n) => [n, '1']));
  assert.deepEqual(loadConfig(given).unreadFnSettings, [...NOT_SERVER_SETTINGS.fnUnread].sort());
});
