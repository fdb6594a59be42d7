// Settings are read once, here, into a typed object; nothing else reads process.env.
// Names follow Fn's where Fn has the same setting, so an Fn operator's environment carries over.
import { homedir, hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CpuListError, parseCpuList } from '../agent/cpu-placement.js';
import { allowedNetworks, DEFAULT_ALLOWED_NETWORKS, networkNames, reservedProblem } from '../agent/fn-network.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../agent/relay.js';
import { DEFAULT_FN_USER } from '../drivers/docker/create-options.js';
import { parseFnDockerAuth, RegistryAuthError, type AuthEntries } from '../drivers/docker/registry-auth.js';
import { DEFAULT_DB_TIMEOUT_MS } from '../store/db-timeout.js';
import { dbUrlPortIssue } from '../store/db-url-port.js';
import { redactDbUrl } from '../store/redact-db-url.js';
import { allowedHostEntry } from './allowed-hosts.js';
import { hostFacts, hostLimitIssues, NR_OPEN_CEILING, PID_MAX_LIMIT, type HostFacts } from './host-limits.js';
import { MIN_TOKEN_LENGTH, TOKEN_PATTERN } from './auth.js';
import { unknownKilnSettings } from './unknown-settings.js';
import { parseTrustProxy, TrustProxyError, type TrustProxy } from './trust-proxy.js';

const MiB = 1024 * 1024;

/**
 * FN_DOCKER_NETWORKS, given to every fn that asks for none: never a mode that would take fns out
 * of their own network namespace (Fn takes any name; `host` would give every tenant the host's
 * loopback, where the API itself may listen).
 */
const operatorNetworks = z.string().superRefine((v, ctx) => {
  for (const name of networkNames(v)) {
    const why = reservedProblem(name);
    if (why) ctx.addIssue({ code: 'custom', message: `${why} (unset FN_DOCKER_NETWORKS for no network)` });
  }
});

/** A decimal integer setting within [min, max]; unset or empty means the default. */
const intFrom = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return def;
      const n = /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

/**
 * The longest delay Node's timers take (2^31 - 1 ms, about 24.8 days): past it setTimeout and
 * AbortSignal.timeout fire after 1 ms instead, so a millisecond setting is bounded by it.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A millisecond setting (a timer's delay) within [min, MAX_TIMER_MS]. */
const msFrom = (def: number, min: number) => intFrom(def, min, MAX_TIMER_MS);

/**
 * FN_MAX_TOTAL_MEMORY_BYTES: 0 (what the host has) or at least the smallest memory a fn can have
 * (1 MB, api/contract/fn-limits.ts): less started, and then refused every call as too big "(0 MB)".
 */
const totalMemory = intFrom(0, 0).transform((n, ctx) => {
  if (n === 0 || n >= MiB) return n;
  ctx.addIssue({ code: 'custom', message: `must be 0 (what the host has) or at least ${MiB} (1 MB, the smallest memory a fn can have), got "${n}": no fn could run` });
  return z.NEVER;
});

/** A number of hours, fractions allowed, at least 0; unset or empty means the default. */
const hoursFrom = (def: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return def;
      const n = /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v.trim()) : NaN;
      if (!Number.isFinite(n)) {
        ctx.addIssue({ code: 'custom', message: `must be a number of hours, 0 or more (e.g. 168 or 0.5), got "${v}"` });
        return z.NEVER;
      }
      // Under a millisecond would round to 0, which means "for ever": the opposite of what was asked.
      if (n > 0 && n * 3_600_000 < 1) {
        ctx.addIssue({ code: 'custom', message: `must be 0 (for ever) or at least one millisecond (0.0000003 hours), got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

// Go's strconv.ParseBool spellings (what Fn's server accepts: `1`, `t`, `TRUE`, `False`, ...), and yes/no.
const TRUE_WORDS = new Set(['true', 't', '1', 'yes']);
const FALSE_WORDS = new Set(['false', 'f', '0', 'no']);

/** A boolean setting; unset or empty means `def`. */
const boolFrom = (def: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return def;
      const word = v.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      ctx.addIssue({ code: 'custom', message: `must be true or false, got "${v}"` });
      return z.NEVER;
    });

const bool = boolFrom(false);
/** As `bool`, but unset means true. */
const boolOn = boolFrom(true);

/** Fn's level words (logrus) that pino spells otherwise. */
const LOGRUS_LEVELS: Record<string, string> = { warning: 'warn', panic: 'fatal' };

/**
 * KILN_LAMBDA_CPUS: `auto` (the default), `off`, or a Linux CPU list such as `0-3,6`; a bad
 * list is a startup error naming it rather than a server that fails every Lambda start.
 */
const lambdaCpus = z
  .string()
  .optional()
  .transform((v, ctx): LambdaCpus => {
    if (v === undefined) return 'auto';
    const word = v.trim().toLowerCase();
    if (word === 'auto' || word === 'off') return word;
    try {
      return parseCpuList(v);
    } catch (err) {
      if (!(err instanceof CpuListError)) throw err;
      ctx.addIssue({ code: 'custom', message: `must be auto, off or a CPU list such as 0-3,6: ${err.message}` });
      return z.NEVER;
    }
  });

/**
 * FN_MAX_TMPFS_INODES: 0 leaves the kernel's default; 1 is refused, since /tmp's root and the socket
 * directory mounted in it take two inodes and no container could start.
 */
const tmpfsInodes = intFrom(0, 0).transform((n, ctx) => {
  if (n !== 1) return n;
  ctx.addIssue({ code: 'custom', message: `must be 0 (the kernel's default) or at least 2, got "1": /tmp itself and the socket directory in it take two inodes` });
  return z.NEVER;
});

/** The largest id Linux takes: (uid_t)-1 means "unchanged" to the kernel. */
const MAX_ID = 4_294_967_294;

/**
 * KILN_FN_USER: `uid:gid`, numbers, as the engine's User. Not 0 (root), which is
 * FN_DISABLE_UNPRIVILEGED_CONTAINERS's business; leading zeros go, so the engine gets one spelling.
 */
const fnUser = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return DEFAULT_FN_USER;
    const m = /^(\d+):(\d+)$/.exec(v.trim());
    const [uid, gid] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
    if (!(uid >= 1 && uid <= MAX_ID && gid >= 1 && gid <= MAX_ID)) {
      ctx.addIssue({ code: 'custom', message: `must be uid:gid, two whole numbers from 1 to ${MAX_ID} (e.g. 100000:100000), got "${v}"` });
      return z.NEVER;
    }
    return `${uid}:${gid}`;
  });

/** The roles Fn's server can take besides `full`: an API-only node, a load balancer, a runner. */
const FN_SPLIT_ROLES = ['api', 'lb', 'pure-runner', 'runner'];

/**
 * FN_NODE_TYPE: Kiln is always Fn's `full` node (API, invokes and agent in one process). Fn
 * runs anything it does not know as full; here any other value stops start-up, since serving as
 * a full node where an operator asked for another role would be wrong.
 */
const nodeType = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim().toLowerCase() === 'full') return 'full' as const;
    const role = v.trim().toLowerCase();
    const why = FN_SPLIT_ROLES.includes(role)
      ? `Kiln does not implement Fn's "${role}" role`
      : `Fn's roles are full, api, lb and pure-runner, and Kiln implements only full`;
    ctx.addIssue({ code: 'custom', message: `must be full (or unset), got "${v}": ${why}; Kiln runs only as a full node (API, invokes and containers in one server)` });
    return z.NEVER;
  });

/** Comma-separated bearer tokens, each one RFC 6750's b64token of at least MIN_TOKEN_LENGTH characters. */
const authTokens = z.string().transform((raw, ctx) => {
  const tokens = raw.split(',').map((t) => t.trim()).filter(Boolean);
  // Set, but to nothing but commas: a mistake that would leave the server open.
  if (tokens.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'names no token: give one or more, separated by commas (or leave it unset for no authentication)' });
    return z.NEVER;
  }
  for (const [i, t] of tokens.entries()) {
    if (!TOKEN_PATTERN.test(t) || t.length < MIN_TOKEN_LENGTH) {
      ctx.addIssue({ code: 'custom', message: `token ${i + 1} must be at least ${MIN_TOKEN_LENGTH} characters of A-Z a-z 0-9 - . _ ~ + / (then = padding)` });
      return z.NEVER;
    }
  }
  return tokens;
});

/** KILN_ALLOWED_HOSTS: comma-separated host names, `.domain` entries and `*`, as api/allowed-hosts.ts matches them. */
const allowedHosts = z.string().transform((raw, ctx) => {
  const given = raw.split(',').map((h) => h.trim()).filter(Boolean);
  if (given.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'names no host: give one or more, separated by commas (or leave it unset)' });
    return z.NEVER;
  }
  const hosts: string[] = [];
  for (const h of given) {
    const entry = allowedHostEntry(h);
    if (entry === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${h}" is not a host name: give names (kiln.lan), domains with a leading dot (.example.com) or *, without scheme or port` });
      return z.NEVER;
    }
    hosts.push(entry);
  }
  return hosts;
});

/**
 * KILN_SYSLOG_SOCKETS: host paths of unix sockets an app's syslog_url may name (unix:// and
 * unixgram://). Plain absolute paths only, so the one written in a URL is the one the engine opens.
 */
const syslogSockets = z.string().transform((raw, ctx) => {
  const paths = raw.split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of paths) {
    if (!/^\/[A-Za-z0-9._/-]+$/.test(p) || p.split('/').some((seg, i) => i > 0 && (seg === '' || seg === '.' || seg === '..'))) {
      ctx.addIssue({ code: 'custom', message: `"${p}" is not a plain absolute path (letters, digits, . _ - and /; no empty, . or .. parts), e.g. /dev/log` });
      return z.NEVER;
    }
  }
  return paths;
});

/** FN_DOCKER_AUTH: Fn's JSON of registry credentials; a value that cannot be used stops start-up, as in Fn. */
const fnDockerAuth = z.string().transform((raw, ctx) => {
  try {
    return parseFnDockerAuth(raw);
  } catch (err) {
    if (!(err instanceof RegistryAuthError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
    return z.NEVER;
  }
});

/** KILN_TRUST_PROXY: Express's `trust proxy` values; one that names no proxy stops start-up. */
const trustProxy = z.string().transform((raw, ctx) => {
  try {
    return parseTrustProxy(raw);
  } catch (err) {
    if (!(err instanceof TrustProxyError)) throw err;
    ctx.addIssue({ code: 'custom', message: `must be false, true, a hop count or addresses and subnets such as "loopback, 10.0.0.0/8", got "${raw}": ${err.message}` });
    return z.NEVER;
  }
});

/** A text setting, without the spaces round it (as number settings are read): `FN_HOST="127.0.0.1 "` is 127.0.0.1. */
const trimmed = z.string().transform((v) => v.trim());

/** FN_DB_URL: a server's port is checked here for every scheme (pg took any, and failed the start as "Invalid URL"). */
const dbUrl = trimmed.transform((url, ctx) => {
  const issue = dbUrlPortIssue(url);
  if (issue === undefined) return url;
  ctx.addIssue({ code: 'custom', message: `${issue} (${redactDbUrl(url)})` });
  return z.NEVER;
});

/** Docker on this machine (its unix socket): only then are this process's CPUs the containers' CPUs. */
const dockerIsLocal = (dockerHost: string | undefined): boolean => dockerHost === undefined || dockerHost.startsWith('unix://');

/** Every setting the server reads, with its default where it has one (exported for the README's check). */
export const envSchema = z.object({
  FN_PORT: intFrom(8080, 0, 65535),
  FN_HOST: trimmed.default('0.0.0.0'),
  FN_NODE_TYPE: nodeType,
  FN_DB_URL: dbUrl.default('sqlite3://./data/fn.db'),
  // Any case, and logrus's own words too (Fn parses it with logrus.ParseLevel): warning, panic.
  FN_LOG_LEVEL: z.preprocess(
    (v) => (typeof v === 'string' ? (LOGRUS_LEVELS[v.trim().toLowerCase()] ?? v.trim().toLowerCase()) : v),
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  ),
  // Fn's default is unlimited (0); Kiln sets a real one, Lambda's 6 MB payload limit.
  FN_MAX_REQUEST_SIZE: intFrom(6 * MiB, 0),
  // When set, endpoint annotations use this base URL instead of the request's own host.
  // The base of URLs callers are given: http or https, nothing else makes one they can call.
  // No query or fragment: paths are appended to it (`...?x=1#f/invoke/<id>` is no endpoint).
  FN_PUBLIC_LB_URL: z.string().url().refine((v) => /^https?:\/\//i.test(v), { message: 'must be an http:// or https:// URL' })
    .refine((v) => !/[?#]/.test(v), { message: 'must have no query (?...) or fragment (#...): endpoint paths are appended to it' }).optional(),

  // The agent (Fn's names and defaults unless noted).
  FN_FREEZE_IDLE_MSECS: msFrom(50, -1), // negative: never freeze
  FN_HOT_START_TIMEOUT_MSECS: msFrom(5000, 1),
  FN_HOT_PULL_TIMEOUT_MSECS: msFrom(10 * 60_000, 1),
  // Fn: 0 (off); Kiln: Lambda's, as the service and RIE enforce it (6 MiB and 100 bytes).
  FN_MAX_RESPONSE_SIZE: intFrom(DEFAULT_MAX_RESPONSE_BYTES, 0),
  // Kiln's: an answer the caller gets as a stream (a Lambda response stream, InvokeWithResponseStream); Lambda's 200 MB.
  KILN_MAX_STREAMED_RESPONSE_SIZE: intFrom(200 * MiB, 0),
  FN_MAX_LOG_SIZE_BYTES: intFrom(MiB, 0),
  FN_MAX_TOTAL_MEMORY_BYTES: totalMemory, // 0: what the host has
  FN_MAX_TOTAL_CPU_MCPUS: intFrom(0, 0),
  FN_ENABLE_NB_RESOURCE_TRACKER: bool,
  // 0 sets no limit (the engine's default), as in Fn.
  // At most what the kernel takes: past it every container start fails (see host-limits.ts).
  FN_MAX_PIDS: intFrom(50, 0, PID_MAX_LIMIT),
  FN_MAX_OPEN_FILES: intFrom(350, 0, NR_OPEN_CEILING),
  // Ulimits per container; 0 leaves the engine's default, as in Fn.
  FN_MAX_LOCKED_MEMORY: intFrom(64 * 1024, 0), // bytes
  FN_MAX_PENDING_SIGNALS: intFrom(5000, 0),
  FN_MAX_MESSAGE_QUEUE: intFrom(819200, 0), // bytes
  FN_MAX_TMPFS_INODES: tmpfsInodes,
  FN_IOFS_PATH: trimmed.optional(),
  // Fn's: a tmpfs of its own for each container's socket directory, with these mount options.
  FN_IOFS_TMPFS: bool,
  FN_IOFS_OPTS: z.string().regex(/^[A-Za-z0-9_=,.:-]*$/, 'mount options: letters, digits and _ = , . : -').default('size=1m,nr_inodes=64'),
  FN_DOCKER_NETWORKS: operatorNetworks.optional(),
  // Fn's: registry credentials, instead of the Docker config file.
  FN_DOCKER_AUTH: fnDockerAuth.optional(),
  FN_DISABLE_READONLY_ROOTFS: bool,
  FN_DISABLE_UNPRIVILEGED_CONTAINERS: bool,
  // Kiln's own.
  KILN_FN_USER: fnUser,
  KILN_NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (up to 64)').optional(),
  KILN_MAX_QUEUE_MSECS: msFrom(10_000, 1),
  KILN_SHUTDOWN_GRACE_MSECS: msFrom(10_000, 0),
  KILN_ORPHAN_SWEEP_MSECS: msFrom(60_000, 0),
  KILN_LOG_FRAMES: bool,
  KILN_LOOKUP_CACHE_MSECS: msFrom(1000, 0),
  KILN_LOOKUP_STALE_MSECS: msFrom(300_000, 0),
  KILN_DB_TIMEOUT_MSECS: msFrom(DEFAULT_DB_TIMEOUT_MS, 1),
  // Longer than the load balancers that keep theirs longest (GCP 600 s, OCI 310 s); 0: never, as Go's server.
  KILN_KEEPALIVE_TIMEOUT_MSECS: msFrom(620_000, 0),
  // Silence mid-body past any live link's retransmissions (TCP's first four take 15 s), within
  // Apache's 20 s and nginx's 60 s for the same bound, and Kiln's 30 s fn and database timeouts;
  // Fn has none (Go's server, no read timeout). 0: no bound.
  KILN_BODY_IDLE_TIMEOUT_MSECS: msFrom(30_000, 0),
  // A week; 0 keeps calls for ever.
  KILN_CALL_RETENTION_HOURS: hoursFrom(168),
  KILN_UI: boolOn,
  KILN_AUTH_TOKENS: authTokens.optional(),
  KILN_AUTH_INVOKE: boolOn,
  KILN_METRICS_TOKENS: authTokens.optional(),
  KILN_ALLOWED_HOSTS: allowedHosts.optional(),
  KILN_TRUST_PROXY: trustProxy.optional(),
  KILN_SYSLOG_SOCKETS: syslogSockets.optional(),
  KILN_DOCKER_PULL: boolOn,
  KILN_LAMBDA_CPUS: lambdaCpus,
  KILN_LAMBDA_CPUS_SHARED: boolOn,
  // Read from the raw environment (see loadConfig): set but empty means no fn may ask for a network.
  KILN_ALLOWED_NETWORKS: z.string().optional(),
  // Read only to tell whether `auto` may use this process's CPUs (dockerode reads it itself).
  DOCKER_HOST: z.string().optional(),
});

/** Every variable Kiln reads: the schema's keys, so the list cannot drift from what is read. */
const READ: ReadonlySet<string> = new Set(Object.keys(envSchema.shape));

/**
 * Which CPUs Lambda-format containers are spread over, one CPU each: `auto` is the CPUs this
 * process may run on (resolved at start-up), `off` is no pinning.
 */
export type LambdaCpus = 'auto' | 'off' | number[];

export interface Config {
  /**
   * FN_* variables set (non-empty) in the server's environment that Kiln does not read: Fn
   * settings with no effect here, sorted. Start-up warns about them.
   */
  unreadFnSettings: string[];
  /** KILN_* variables set that are no setting of the server's (a misspelling, say), with the one each may mean. */
  unknownKilnSettings: { name: string; meant?: string }[];
  port: number;
  host: string;
  dbUrl: string;
  logLevel: z.infer<typeof envSchema>['FN_LOG_LEVEL'];
  /** Bytes; 0 means no limit. */
  maxRequestSize: number;
  publicUrl: string | undefined;
  /** How long invoke lookups (fn, app, trigger) are cached; 0 turns the cache off. */
  lookupCacheMs: number;
  /** How long past its read a looked-up fn, app or trigger is served while the database is unavailable; 0: never. */
  lookupStaleMs: number;
  /** The longest wait on PostgreSQL or MySQL, for a connection or a statement. */
  dbTimeoutMs: number;
  /** How long an idle kept-alive connection is kept open; 0: until the client closes it. */
  keepAliveTimeoutMs: number;
  /** How long a request body may go without a byte arriving before it is answered 408; 0: no bound. */
  bodyIdleTimeoutMs: number;
  /** How long calls and their logs are kept, from their creation; 0: for ever. */
  callRetentionMs: number;
  /** Serve the web view at /ui/. */
  ui: boolean;
  /** Bearer tokens the API accepts; empty: no authentication. */
  authTokens: string[];
  /** With tokens set, whether /invoke needs one too. */
  authInvoke: boolean;
  /** Bearer tokens good for GET /metrics only (with authTokens set). */
  metricsTokens: string[];
  /** KILN_ALLOWED_HOSTS: without tokens, the Host names answered besides localhost, IPs, this machine's and FN_PUBLIC_LB_URL's. */
  allowedHosts: string[];
  /**
   * KILN_TRUST_PROXY, as Express's `trust proxy`: the hops whose X-Forwarded-For (the caller's
   * address) and X-Forwarded-Proto (the scheme of endpoint annotations) are believed.
   */
  trustProxy: TrustProxy;
  agent: {
    nodeId: string;
    iofsPath: string;
    /** Whether FN_IOFS_PATH was set: a directory an operator named is never chmod'ed. */
    iofsPathGiven: boolean;
    /** FN_IOFS_TMPFS: the tmpfs mount options of each socket directory; undefined: plain directories. */
    iofsTmpfs: string | undefined;
    freezeIdleMs: number;
    startTimeoutMs: number;
    pullTimeoutMs: number;
    pull: boolean;
    maxResponseBytes: number;
    /** KILN_MAX_STREAMED_RESPONSE_SIZE: the bound on answers passed on as streams; 0 means none. */
    maxStreamedResponseBytes: number;
    maxLogBytes: number;
    maxTotalMemoryBytes: number;
    maxTotalCpuMilli: number;
    /** A container start short of memory, with nothing idle to evict, is a 503 at once (Fn's non-blocking tracker). */
    nonBlocking: boolean;
    maxPids: number;
    maxOpenFiles: number;
    /** RLIMIT_MEMLOCK bytes; 0: the engine's default. */
    maxLockedMemory: number;
    /** RLIMIT_SIGPENDING; 0: the engine's default. */
    maxPendingSignals: number;
    /** RLIMIT_MSGQUEUE bytes; 0: the engine's default. */
    maxMessageQueue: number;
    /** nr_inodes of the tmpfs at /tmp; 0: the kernel's default. */
    maxTmpfsInodes: number;
    /** FN_DOCKER_NETWORKS: a container whose fn asks for no network joins the least used; none when empty. */
    networks: string[];
    /** What the kiln.io/network annotation may name: KILN_ALLOWED_NETWORKS and `networks`, never host, none or container:... */
    allowedNetworks: string[];
    /** KILN_SYSLOG_SOCKETS: the unix sockets an app's syslog_url may name. */
    syslogSockets: string[];
    /** FN_DOCKER_AUTH: when set, the only registry credentials pulls send. */
    dockerAuth: AuthEntries | undefined;
    /** The Docker CLI's config file, read at each pull for registry credentials. */
    dockerConfigFile: string;
    readOnlyRoot: boolean;
    unprivileged: boolean;
    /** KILN_FN_USER: `uid:gid` the functions run as, unless not unprivileged. */
    fnUser: string;
    maxQueueMs: number;
    shutdownGraceMs: number;
    /** How often to remove this node's containers the agent no longer holds; 0: only at start-up and shutdown. */
    orphanSweepMs: number;
    /** KILN_LOG_FRAMES: Fn's log frame variables in every http-stream container (see agent/log-frames.ts). */
    logFrames: boolean;
    lambdaCpus: LambdaCpus;
    /** Count other nodes' pinned containers on the engine when choosing a CPU. */
    lambdaCpusShared: boolean;
  };
}

export class ConfigError extends Error {}

/**
 * `host`: what the engine's kernel allows, for the container limits; by default this host's when
 * the engine is local (tests give their own).
 */
export function loadConfig(env: NodeJS.ProcessEnv, host?: HostFacts): Config {
  // An empty variable (`FN_PUBLIC_LB_URL=`) means unset, as in a shell.
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid settings: ${detail}`);
  }
  const e = parsed.data;
  const limitIssues = hostLimitIssues(e, host ?? hostFacts(dockerIsLocal(e.DOCKER_HOST)));
  if (limitIssues.length > 0) throw new ConfigError(`invalid settings: ${limitIssues.join('; ')}`);
  const networks = networkNames(e.FN_DOCKER_NETWORKS);
  // Unlike every other setting, empty is not unset: it allows no network at all.
  const askable = env.KILN_ALLOWED_NETWORKS === undefined ? DEFAULT_ALLOWED_NETWORKS : networkNames(env.KILN_ALLOWED_NETWORKS);
  return {
    unreadFnSettings: Object.keys(given).filter((name) => name.startsWith('FN_') && !READ.has(name)).sort(),
    unknownKilnSettings: unknownKilnSettings(given as Record<string, string>, READ),
    port: e.FN_PORT,
    host: e.FN_HOST,
    dbUrl: e.FN_DB_URL,
    logLevel: e.FN_LOG_LEVEL,
    maxRequestSize: e.FN_MAX_REQUEST_SIZE,
    publicUrl: e.FN_PUBLIC_LB_URL?.replace(/\/+$/, ''),
    lookupCacheMs: e.KILN_LOOKUP_CACHE_MSECS,
    lookupStaleMs: e.KILN_LOOKUP_STALE_MSECS,
    dbTimeoutMs: e.KILN_DB_TIMEOUT_MSECS,
    keepAliveTimeoutMs: e.KILN_KEEPALIVE_TIMEOUT_MSECS,
    bodyIdleTimeoutMs: e.KILN_BODY_IDLE_TIMEOUT_MSECS,
    callRetentionMs: Math.round(e.KILN_CALL_RETENTION_HOURS * 3_600_000),
    ui: e.KILN_UI,
    authTokens: e.KILN_AUTH_TOKENS ?? [],
    authInvoke: e.KILN_AUTH_INVOKE,
    metricsTokens: e.KILN_METRICS_TOKENS ?? [],
    allowedHosts: e.KILN_ALLOWED_HOSTS ?? [],
    trustProxy: e.KILN_TRUST_PROXY ?? false,
    agent: {
      nodeId: e.KILN_NODE_ID ?? (hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64) || 'kiln'),
      // Absolute: the engine takes a relative bind source for a volume's name (TMPDIR may be relative).
      iofsPath: resolve(e.FN_IOFS_PATH ?? join(tmpdir(), 'kiln-iofs')),
      iofsPathGiven: e.FN_IOFS_PATH !== undefined,
      iofsTmpfs: e.FN_IOFS_TMPFS ? e.FN_IOFS_OPTS : undefined,
      freezeIdleMs: e.FN_FREEZE_IDLE_MSECS,
      startTimeoutMs: e.FN_HOT_START_TIMEOUT_MSECS,
      pullTimeoutMs: e.FN_HOT_PULL_TIMEOUT_MSECS,
      pull: e.KILN_DOCKER_PULL,
      maxResponseBytes: e.FN_MAX_RESPONSE_SIZE,
      maxStreamedResponseBytes: e.KILN_MAX_STREAMED_RESPONSE_SIZE,
      maxLogBytes: e.FN_MAX_LOG_SIZE_BYTES,
      maxTotalMemoryBytes: e.FN_MAX_TOTAL_MEMORY_BYTES,
      maxTotalCpuMilli: e.FN_MAX_TOTAL_CPU_MCPUS,
      nonBlocking: e.FN_ENABLE_NB_RESOURCE_TRACKER,
      maxPids: e.FN_MAX_PIDS,
      maxOpenFiles: e.FN_MAX_OPEN_FILES,
      maxLockedMemory: e.FN_MAX_LOCKED_MEMORY,
      maxPendingSignals: e.FN_MAX_PENDING_SIGNALS,
      maxMessageQueue: e.FN_MAX_MESSAGE_QUEUE,
      maxTmpfsInodes: e.FN_MAX_TMPFS_INODES,
      networks,
      allowedNetworks: allowedNetworks(askable, networks),
      syslogSockets: e.KILN_SYSLOG_SOCKETS ?? [],
      dockerAuth: e.FN_DOCKER_AUTH,
      // Where the Docker CLI keeps it; empty DOCKER_CONFIG or HOME count as unset, as in a shell.
      dockerConfigFile: given.DOCKER_CONFIG !== undefined
        ? join(given.DOCKER_CONFIG, 'config.json')
        : join(given.HOME ?? homedir(), '.docker', 'config.json'),
      readOnlyRoot: !e.FN_DISABLE_READONLY_ROOTFS,
      unprivileged: !e.FN_DISABLE_UNPRIVILEGED_CONTAINERS,
      fnUser: e.KILN_FN_USER,
      maxQueueMs: e.KILN_MAX_QUEUE_MSECS,
      shutdownGraceMs: e.KILN_SHUTDOWN_GRACE_MSECS,
      orphanSweepMs: e.KILN_ORPHAN_SWEEP_MSECS,
      logFrames: e.KILN_LOG_FRAMES,
      // A remote engine's CPUs are not this process's: `auto` cannot know them.
      lambdaCpus: e.KILN_LAMBDA_CPUS === 'auto' && !dockerIsLocal(e.DOCKER_HOST) ? 'off' : e.KILN_LAMBDA_CPUS,
      lambdaCpusShared: e.KILN_LAMBDA_CPUS_SHARED,
    },
  };
}
