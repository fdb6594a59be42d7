// The contract between the agent (agent/) and Kiln's Lambda daemon in the container (runtime/):
// its single source. Both sides (and the tests' stand-ins for either) import these names rather
// than retype them, so a rename on one side cannot pass the unit tests and break only in Docker.
// Constants only and no imports: esbuild inlines it into the daemon's bundle, and the agent
// imports it without pulling in any daemon code.

// ---- The socket (Fn's http-stream contract, which the daemon serves like any container) ----

/** Where the agent's socket directory is mounted in every container. */
export const IOFS_DIR = '/tmp/iofs';
/** The socket's name in that directory (a link to the socket, once it accepts). */
export const LISTENER_NAME = 'lsnr.sock';
/** FN_LISTENER as containers see it. */
export const IOFS_LISTENER = `unix:${IOFS_DIR}/${LISTENER_NAME}`;

// ---- The daemon's own requests on that socket (beside Fn's POST /call) ----

/** GET: answers once every party is back in `next` (the agent freezes or reuses the container only then). */
export const IDLE_PATH = '/.kiln/idle';
/**
 * IDLE_PATH's query `?for=invoke`: free for the next invoke (the agent's wait after a busy-after
 * answer), rather than idle enough to freeze.
 */
export const IDLE_FOR_PARAM = 'for';
export const IDLE_FOR_INVOKE = 'invoke';
/** POST: runs the shutdown sequence before the agent removes the container. */
export const SHUTDOWN_PATH = '/.kiln/shutdown';
/** SHUTDOWN_PATH's query parameter: the reason, `spindown` (the agent's), `timeout` or `failure`. */
export const SHUTDOWN_REASON_PARAM = 'reason';

// ---- Headers the agent adds to a call (it strips any a caller sent) ----

/** The caller's address, for a function URL event's sourceIp. */
export const SOURCE_IP_HEADER = 'kiln-source-ip';
/** The version the Lambda APIs' caller named, for the invokedFunctionArn. */
export const QUALIFIER_HEADER = 'kiln-qualifier';

// ---- Headers (and trailers) the daemon puts on an answer (the agent reads and strips them) ----

/** Marks a streamed answer; its value is STREAMING_MODE. */
export const STREAMING_HEADER = 'kiln-response-mode';
export const STREAMING_MODE = 'streaming';
/** The call's platform log lines, base64. */
export const LOG_HEADER = 'kiln-log';
/** Where the invocation's output begins in the container's log, a byte offset (the agent splits the log between calls there). */
export const LOG_FROM_HEADER = 'kiln-log-from';
/** The sandbox stays busy after this answer (the agent waits on IDLE_PATH for an invoke before the next). */
export const BUSY_AFTER_HEADER = 'kiln-busy-after';
/** The invocation's END and REPORT follow later (a header on a buffered answer, a trailer on a stream). */
export const REPORT_LATE_HEADER = 'kiln-report-late';
/** A streamed answer's deadline, epoch ms (the agent cuts the stream itself a moment after it). */
export const DEADLINE_HEADER = 'kiln-deadline';
/** Trailer on a stream that failed after its first byte: the error type. */
export const STREAM_ERROR_TRAILER = 'kiln-function-error';
/** Beside it: the error's message, base64 of its UTF-8. */
export const STREAM_ERROR_MESSAGE_TRAILER = 'kiln-function-error-message';

/** Every header the daemon may put on an answer's head: the agent strips them, none may reach a caller. */
export const DAEMON_ANSWER_HEADERS = [
  STREAMING_HEADER, LOG_HEADER, LOG_FROM_HEADER, BUSY_AFTER_HEADER, REPORT_LATE_HEADER, DEADLINE_HEADER,
] as const;
/** Every trailer the daemon may end a stream with: read by the agent, which relays no trailer to a caller. */
export const DAEMON_TRAILERS = [STREAM_ERROR_TRAILER, STREAM_ERROR_MESSAGE_TRAILER, REPORT_LATE_HEADER] as const;
/** Every header the agent adds to a call for the daemon: only Kiln's own copies may reach it. */
export const AGENT_CALL_HEADERS = [SOURCE_IP_HEADER, QUALIFIER_HEADER] as const;

// ---- The daemon's settings, in the container's environment ----

/** Every daemon setting starts so; the agent drops a fn config's (but DAEMON_ENV.systemLogLevel). */
export const DAEMON_ENV_PREFIX = 'KILN_LAMBDA_';
export const DAEMON_ENV = {
  /** The largest buffered answer the runtime may post (the agent's FN_MAX_RESPONSE_SIZE). */
  maxResponseBytes: 'KILN_LAMBDA_MAX_RESPONSE_BYTES',
  /** The boot init's bound, ms (default INIT_TIMEOUT_MS). */
  initTimeoutMs: 'KILN_LAMBDA_INIT_TIMEOUT_MS',
  /** The shutdown budget, ms (default DAEMON_SHUTDOWN_MS). The agent leaves it at its default. */
  shutdownMs: 'KILN_LAMBDA_SHUTDOWN_MS',
  /** The image's entrypoint + cmd as JSON: the bootstrap of last resort. */
  command: 'KILN_LAMBDA_COMMAND',
  /** The image's working directory. */
  workDir: 'KILN_LAMBDA_WORKDIR',
  /** JSON of the Node settings (NODE_OPTIONS, ..., LD_PRELOAD) kept from the daemon's own Node, for the runtime. */
  nodeEnvKept: 'KILN_LAMBDA_NODE_ENV',
  /** host:port of the Lambda APIs (tests only). */
  apiAddress: 'KILN_LAMBDA_API_ADDRESS',
  /** Where extensions live (tests only). */
  extensionsDir: 'KILN_LAMBDA_EXTENSIONS_DIR',
  /** How long the daemon's servers wait for a request's head, ms (tests only). */
  headersTimeoutMs: 'KILN_LAMBDA_HEADERS_TIMEOUT_MS',
  /** The system log level: the one daemon setting a fn's config may set. */
  systemLogLevel: 'KILN_LAMBDA_SYSTEM_LOG_LEVEL',
} as const;

// ---- Timing ----

/** The boot init's bound (the service's 10 s Init phase): the agent sends it, the daemon defaults to it. */
export const INIT_TIMEOUT_MS = 10_000;
/** The daemon's shutdown budget (the SHUTDOWN event to the kill), as the service's 2000 ms. */
export const DAEMON_SHUTDOWN_MS = 2000;
/** A retirement first reads the runtime's backlog (what it printed last), at most this long. */
export const SHUTDOWN_OUTPUT_MS = 400;
/**
 * How long the agent waits for the daemon's shutdown sequence before it kills the container:
 * the daemon's whole sequence and a margin, so the kill never cuts the SHUTDOWN budget short.
 */
export const AGENT_SHUTDOWN_WAIT_MS = SHUTDOWN_OUTPUT_MS + DAEMON_SHUTDOWN_MS + 100;
