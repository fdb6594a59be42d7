// What the HTTP layer needs, built once by the composition root (api/main.ts).
import type { Logger } from 'pino';
import type { App, Fn, Store } from '../store/types.js';
import type { Admission, InvokeSpec } from '../agent/agent.js';
import type { ResponseTarget } from '../agent/relay.js';
import type { Metrics } from './metrics.js';
import type { TrustProxy } from './trust-proxy.js';
import type { UiAssets } from './routes/ui.js';

/** The part of the agent the HTTP layer uses. */
export interface Invoker {
  invoke(spec: InvokeSpec, res: ResponseTarget): Promise<void>;
  /** Takes a call's request as it arrives (see Agent.admit). */
  admit(): Admission | undefined;
}

/**
 * The part of the agent told of committed writes to fns and apps through this server's API
 * (api/store-writes.ts): the hot containers they made outdated retire.
 */
export interface ContainerRetirer {
  /** The fn as it now is: its containers made for what it was retire. */
  fnUpdated(fn: Fn): void;
  fnDeleted(fnId: string): void;
  /** The app as it now is: its fns' containers made for what it was retire. */
  appUpdated(app: App): void;
  /** Its fns went with it. */
  appDeleted(appId: string): void;
}

export interface ApiDeps {
  /** Its writes to apps, fns and triggers are told to the invoke lookups (store-writes.ts). */
  store: Store;
  agent: Invoker;
  log: Logger;
  /** New 26-character, time-sortable id. */
  newId: () => string;
  /** Current time as Fn's RFC 3339 millisecond string. */
  now: () => string;
  version: string;
  maxRequestSize: number;
  /** KILN_BODY_IDLE_TIMEOUT_MSECS: the longest wait for a request body's next bytes; 0: no bound. */
  bodyIdleTimeoutMs: number;
  publicUrl: string | undefined;
  /** KILN_TRUST_PROXY: express's `trust proxy`, for req.ip and req.protocol. */
  trustProxy: TrustProxy;
  /** What the kiln.io/network annotation of an app or fn may name (KILN_ALLOWED_NETWORKS, FN_DOCKER_NETWORKS). */
  allowedNetworks: readonly string[];
  /** The unix sockets an app's syslog_url may name (KILN_SYSLOG_SOCKETS). */
  syslogSockets: readonly string[];
  /** GET /metrics (Prometheus); absent, the path is not served. */
  metrics?: Metrics;
  /** The web view's files, served at /ui/; absent, the web view is off. */
  ui?: UiAssets;
}
