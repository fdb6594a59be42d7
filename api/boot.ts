// The composition root: builds the object graph from a Config and starts listening.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Config, LambdaCpus } from './config.js';
import { hostRefusal, hostRules, isLoopbackHost } from './allowed-hosts.js';
import { originForm, tokenCheck } from './auth.js';
import { crossSiteRefusal } from './cross-site.js';
import { pathOf } from './request-path.js';
import { boundUnreadBodyAtHead } from './unread-body.js';
import { holdContinue } from './expect-continue.js';
import { apiServerOptions } from './http-options.js';
import { answerClientError } from './client-error.js';
import type { RewrittenRequest } from './gateway-url.js';
import { ApiError, LambdaApiError, sendError, sendLambdaError } from './errors.js';
import { idFactory } from './ids.js';
import { redactUrl } from './log-redact.js';
import { createLogger } from './logger.js';
import { createApp } from './server.js';
import { DatabaseOpenError, ensurePortFree, listen } from './start-failure.js';
import { InvokeLookup } from './invoke-lookup.js';
import { OpenResponses } from './open-responses.js';
import { watchedWrites } from './store-writes.js';
import { createMetrics } from './metrics.js';
import { methodLabel, routeOf } from './request-route.js';
import { invokeHandler } from './invoke-handler.js';
import { lambdaInvokeHandler } from './lambda-invoke.js';
import { lambdaStreamHandler } from './lambda-stream.js';
import { isLambdaApiPath } from './lambda-request.js';
import { timestamp } from './models/common.js';
import { loadUiAssets, UiMissingError, type UiAssets } from './routes/ui.js';
import type { TrustFn } from './trust-proxy.js';
import { Agent } from '../agent/agent.js';
import { removeOrphanSocketDirs, sweepNode } from '../agent/node-sweep.js';
import { cpusAllowed } from '../agent/cpu-placement.js';
import { prepareSocketBase } from '../agent/iofs-base.js';
import { lockNodeId } from '../agent/node-lock.js';
import { hostCapacity } from '../agent/resources.js';
import { clientTimeoutSet, engineClient } from '../drivers/docker/client.js';
import { DockerDriver } from '../drivers/docker/driver.js';
import type { Driver } from '../drivers/contract.js';
import { registryCredentials } from '../drivers/docker/registry-credentials.js';
import { LambdaBundle } from '../agent/lambda-bundle.js';
import { holdBundleLease } from '../images/bundle-lease.js';
import { pruneRuntimeBundles } from '../images/prune-bundles.js';
import { prepareRuntimeBundle } from '../images/runtime-bundle.js';
import { openKnex } from '../store/open.js';
import { redactDbUrl } from '../store/redact-db-url.js';
import { CallRetention } from '../store/call-retention.js';
import { SqlStore } from '../store/sql-store.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** KILN_LAMBDA_CPUS as CPUs: `auto` is the CPUs this process may run on (Linux), none when unreadable. */
function lambdaCpus(setting: LambdaCpus): number[] | undefined {
  if (setting === 'off') return undefined;
  if (setting !== 'auto') return setting;
  try {
    return cpusAllowed(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return undefined; // not Linux: pinning stays off
  }
}

/** Deletes the old runtime bundles beside `hostDir`, logging what it did; never rejects. */
async function pruneOldBundles(hostDir: string, driver: Driver, log: Logger): Promise<void> {
  try {
    const { removed, bytes, failed } = await pruneRuntimeBundles(hostDir, { mountedHostPaths: () => driver.mountedHostPaths() });
    if (removed.length > 0) log.info({ removed, bytes, dir: dirname(hostDir) }, `removed ${removed.length} old Lambda runtime bundle(s), ${Math.round(bytes / 1024 / 1024)} MiB`);
    for (const { name, err } of failed) log.warn({ err, name, dir: dirname(hostDir) }, 'an old Lambda runtime bundle could not be removed');
  } catch (err) {
    log.warn({ err, dir: dirname(hostDir) }, 'old Lambda runtime bundles could not be pruned');
  }
}

export interface Running {
  url: string;
  agent: Agent;
  /** The HTTP server, for its settings (tests). */
  server: Server;
  stop: () => Promise<void>;
  /**
   * When (performance.now()) stop() last got something done: a container removed, the sweep, the
   * records written, a step of closing; undefined before it has. A stop's bound is on this.
   */
  stopProgressAt: () => number | undefined;
}

export async function start(config: Config): Promise<Running> {
  const log = createLogger(config.logLevel);
  // An Fn operator's environment may carry settings Kiln has no use for: say which, once.
  if (config.unreadFnSettings.length > 0) {
    const names = config.unreadFnSettings.join(', ');
    log.warn({ settings: config.unreadFnSettings }, `Kiln does not read these Fn settings, so they have no effect here: ${names}`);
  }
  if (config.unknownKilnSettings.length > 0) {
    const names = config.unknownKilnSettings.map((s) => (s.meant ? `${s.name} (did you mean ${s.meant}?)` : s.name)).join(', ');
    log.warn({ settings: config.unknownKilnSettings }, `these KILN_ variables are not Kiln settings, so they have no effect: ${names}`);
  }
  // The port first, before anything changes: the database's migrations, the socket base, and
  // the sweep below, which would take another running server's containers had it this node id.
  await ensurePortFree(config.port, config.host);
  await prepareSocketBase(config.agent.iofsPath, {
    mayClose: !config.agent.iofsPathGiven,
    ...(config.agent.iofsTmpfs !== undefined && { tmpfs: config.agent.iofsTmpfs }),
  });
  // Another port is no obstacle to a second server with this node id: its sweep would be.
  const releaseNodeId = await lockNodeId(config.agent.iofsPath, config.agent.nodeId, config.port);
  try {
    return await startHolding(config, log, releaseNodeId);
  } catch (err) {
    // A start that failed (the database unreachable, say) holds the node id no longer.
    await releaseNodeId();
    throw err;
  }
}

/** The rest of start(), once this server holds its node id; `releaseNodeId` ends its stop. */
async function startHolding(config: Config, log: Logger, releaseNodeId: () => Promise<void>): Promise<Running> {
  const knex = await openKnex(config.dbUrl, { timeoutMs: config.dbTimeoutMs, log }).catch((err: unknown) => {
    throw new DatabaseOpenError(config.dbUrl, err);
  });
  const store = new SqlStore(knex);
  const newId = idFactory();
  const a = config.agent;

  if (clientTimeoutSet(process.env)) {
    log.warn('DOCKER_CLIENT_TIMEOUT has no effect: Kiln bounds each request to the container engine itself, and never cuts the output of a quiet container');
  }
  const driver = new DockerDriver({
    // dockerode reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH itself.
    docker: engineClient(),
    nodeId: a.nodeId,
    pull: a.pull,
    pullTimeoutMs: a.pullTimeoutMs,
    credentials: registryCredentials({ configFile: a.dockerConfigFile, log, ...(a.dockerAuth && { fnDockerAuth: a.dockerAuth }) }),
    limits: {
      pids: a.maxPids,
      openFiles: a.maxOpenFiles,
      lockedMemory: a.maxLockedMemory,
      pendingSignals: a.maxPendingSignals,
      messageQueue: a.maxMessageQueue,
      tmpfsInodes: a.maxTmpfsInodes,
      readOnlyRoot: a.readOnlyRoot,
      unprivileged: a.unprivileged,
      user: a.fnUser,
    },
  });
  // Containers an earlier process of this node left behind (a crash, a kill) go first.
  try {
    const removed = await sweepNode(driver, a.iofsPath, log);
    if (removed.length > 0) log.info({ removed: removed.length, containers: removed, node: a.nodeId }, 'removed containers of this node id left by an earlier run (or by a running Kiln too old to hold its node id)');
    // Only once the engine has answered: without a sweep, this node's containers may still live.
    await removeOrphanSocketDirs(driver, a.iofsPath, a.nodeId, log);
  } catch (err) {
    // Unreachable, or taking requests and not answering them in time (each is bounded): either
    // way the server listens, and says what it could not do.
    log.warn(
      { err, node: a.nodeId },
      `container engine unreachable or not answering: the containers an earlier run of node ${a.nodeId} left, and their socket directories, were not removed ` +
        '(the periodic sweep, KILN_ORPHAN_SWEEP_MSECS, removes them once it answers); the API works, calls will fail until it answers',
    );
  }
  // The Lambda daemon and a node to run it, mounted into every `format: lambda` container;
  // prepared again when a call needs it if it cannot be now.
  let releaseBundle: (() => void) | undefined;
  let pruning: Promise<void> | undefined;
  const daemonJs = fileURLToPath(new URL('../runtime/daemon.cjs', import.meta.url));
  const bundle = new LambdaBundle(() => prepareRuntimeBundle({ daemonJs }), daemonJs, log, (rt) => {
    // Held while this server runs; the bundles earlier versions left beside it go, in the background.
    releaseBundle = holdBundleLease(rt.hostDir, log);
    pruning = pruneOldBundles(rt.hostDir, driver, log);
  });
  const lambda = await bundle.get();
  const cpus = lambdaCpus(a.lambdaCpus);
  log.debug({ setting: a.lambdaCpus, cpus }, 'CPUs for pinning Lambda containers');
  // Read at scrape time, so the agent made just below may be named before it exists.
  const metrics = createMetrics(() => agent.stats());
  const agent = new Agent(
    {
      iofsPath: a.iofsPath,
      nodeId: a.nodeId,
      ...(a.iofsTmpfs !== undefined && { iofsTmpfs: a.iofsTmpfs }),
      freezeIdleMs: a.freezeIdleMs,
      startTimeoutMs: a.startTimeoutMs,
      maxResponseBytes: a.maxResponseBytes,
      maxStreamedResponseBytes: a.maxStreamedResponseBytes,
      maxLogBytes: a.maxLogBytes,
      maxQueueMs: a.maxQueueMs,
      nonBlocking: a.nonBlocking,
      capacity: hostCapacity(a.maxTotalMemoryBytes, a.maxTotalCpuMilli),
      shutdownGraceMs: a.shutdownGraceMs,
      orphanSweepMs: a.orphanSweepMs,
      logFrames: a.logFrames,
      networks: a.networks,
      allowedNetworks: a.allowedNetworks,
      syslogSockets: a.syslogSockets,
      ...(lambda && { lambda }),
      ...(cpus && { lambdaCpus: cpus, lambdaCpusShared: a.lambdaCpusShared }),
    },
    {
      driver, store, log, newId, labelsFor: (appId, fnId) => driver.labelsFor(appId, fnId),
      observeCall: (status, seconds, failure) => metrics.observeCall(status, seconds, failure),
      observeStart: (format, outcome, seconds) => metrics.observeStart(format, outcome, seconds),
      ...(!lambda && { lambdaBundle: bundle }),
    },
  );

  // The web view's built files (dist/web/); without them the API still runs, with no /ui/.
  let ui: UiAssets | undefined;
  if (config.ui) {
    try {
      ui = loadUiAssets(fileURLToPath(new URL('../web/', import.meta.url)));
    } catch (err) {
      if (!(err instanceof UiMissingError)) throw err;
      log.warn({ err }, 'the web view is not built (run `npm run build`): /ui/ is not served');
    }
  }

  const lookup = new InvokeLookup(store, config.lookupCacheMs, { staleMs: config.lookupStaleMs, log });
  const app = createApp({
    store: watchedWrites(store, lookup, agent),
    agent,
    log,
    newId,
    now: () => timestamp(),
    version: packageVersion(),
    maxRequestSize: config.maxRequestSize,
    bodyIdleTimeoutMs: config.bodyIdleTimeoutMs,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    allowedNetworks: a.allowedNetworks,
    syslogSockets: a.syslogSockets,
    metrics,
    ...(ui && { ui }),
  });

  // Invokes go straight to their handler; everything else to express. With tokens set, every
  // request not on a public path is checked first, invokes and the REST API alike.
  const authenticate = tokenCheck(config.authTokens, { invoke: config.authInvoke, metricsTokens: config.metricsTokens });
  // Without full tokens nothing is guarded, /metrics included: a metrics token would guard nothing.
  if (!authenticate && config.metricsTokens.length > 0) {
    log.warn('KILN_METRICS_TOKENS has no effect without KILN_AUTH_TOKENS: with no tokens, /metrics (like the whole API) needs none');
  }
  // Without tokens, the names a request may be made to (DNS rebinding; api/allowed-hosts.ts).
  const hosts = hostRules(config.allowedHosts, hostname(), config.publicUrl);
  // Express's compiled KILN_TRUST_PROXY: the caller's address on the invoke paths is its req.ip.
  const trust = app.get('trust proxy fn') as TrustFn;
  const invoke = invokeHandler({ agent, lookup, newId, log, maxRequestSize: config.maxRequestSize, bodyIdleTimeoutMs: config.bodyIdleTimeoutMs, stripAuthorization: authenticate !== undefined, trust });
  // The Lambda APIs' paths (Invoke, InvokeWithResponseStream), asked only after /invoke and /t/
  // have said no: they pay nothing for them.
  const lambdaDeps = { agent, lookup, newId, log, maxRequestSize: config.maxRequestSize, bodyIdleTimeoutMs: config.bodyIdleTimeoutMs, trust };
  const lambdaInvoke = lambdaInvokeHandler(lambdaDeps);
  const lambdaStream = lambdaStreamHandler(lambdaDeps);
  // A request refused before routing (no valid token, a Host not allowed): an AWS SDK reads errors in Lambda's shape only.
  const refuse = (res: ServerResponse, url: string, err: Error): void =>
    isLambdaApiPath(url) ? sendLambdaError(res, err, log, { requestId: newId() }) : sendError(res, err, log);
  // Every request is counted as it ends, refused ones (401, a 503 database unavailable) included:
  // those never reach the agent's figures. 'close' comes whether the answer ended or was cut.
  const countRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const began = performance.now();
    const route = routeOf(req.url);
    res.once('close', () => {
      // No answer sent: the client went away first (nginx's 499, as a cancelled call's).
      metrics.observeRequest(route, methodLabel(req.method), res.headersSent ? res.statusCode : 499, (performance.now() - began) / 1000);
    });
  };
  // Answers not yet all sent: a stop lets them finish within its grace period.
  const responses = new OpenResponses();
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    countRequest(req, res);
    responses.track(req, res);
    // An absolute-form target (`GET http://host/path`, which HTTP/1.1 servers must accept)
    // becomes its path here, so the token check, the invoke paths and express all see one path.
    if (req.url !== undefined && req.url.charCodeAt(0) !== 47 /* / */) {
      // Kept for a trigger's Fn-Http-Request-Url, which carries the target as sent (as Fn's).
      (req as RewrittenRequest).absoluteTarget = req.url;
      req.url = originForm(req.url);
      // What is still no path: `OPTIONS *` gets Go's server's empty 200; a URL that does not
      // parse (`http://`, a port past 65535) a 400, before anything could read it its own way.
      if (req.url.charCodeAt(0) !== 47) {
        if (req.url === '*' && req.method === 'OPTIONS') return void res.writeHead(200, { 'content-length': '0' }).end();
        return sendError(res, new ApiError('Invalid request target'), log);
      }
    }
    const url = req.url ?? '/';
    if (authenticate) {
      const denied = authenticate(req.method, pathOf(url), req.headers);
      if (denied) log.info({ method: req.method, url: redactUrl(url), remote: req.socket.remoteAddress, why: denied.message }, 'request refused: no valid token');
      if (denied) return refuse(res, url, denied);
    } else {
      // No token to ask for: the name the request was made to instead (a rebound page has neither).
      const refused = hostRefusal(req.method, pathOf(url), req.headers.host, hosts, { invoke: config.authInvoke });
      if (refused) log.info({ method: req.method, url: redactUrl(url), remote: req.socket.remoteAddress, host: req.headers.host }, 'request refused: Host not allowed');
      if (refused) return refuse(res, url, refused);
    }
    const crossSite = crossSiteRefusal(req.method, req.url ?? '/', req.headers, config.publicUrl);
    if (crossSite !== undefined) {
      log.info({ method: req.method, url: redactUrl(url), remote: req.socket.remoteAddress, why: crossSite.why }, 'request refused: cross-site');
      return sendError(res, crossSite, log);
    }
    if (invoke(req, res) || lambdaInvoke(req, res) || lambdaStream(req, res)) return;
    // The rest of the Lambda APIs (GetFunction, ...) is not served: said in their shape, so an
    // AWS SDK names the error rather than failing to read Fn's.
    if (isLambdaApiPath(req.url ?? '/')) {
      const unknown = new LambdaApiError('UnknownOperationException', `Kiln serves the Lambda API's Invoke and InvokeWithResponseStream only, not ${req.method} ${pathOf(req.url ?? '/')}`);
      return sendLambdaError(res, unknown, log, { requestId: newId() });
    }
    // Routes that answer without reading a body (GET /version, /ui/...): what a client sends
    // anyway is bounded as after any early answer, from the answer's head, which can then still
    // say `Connection: close`.
    boundUnreadBodyAtHead(res);
    app(req, res);
  };
  const server = createServer(apiServerOptions(config.keepAliveTimeoutMs), handle);
  // Its idle connections closed by a stop are those with no answer still being sent.
  responses.watch(server);
  // What the parser cannot read gets Kiln's JSON error, not Node's bare status line.
  server.on('clientError', answerClientError);
  // `Expect: 100-continue`: routed as any request; the 100 goes out only if the body is read.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    holdContinue(req, res);
    handle(req, res);
  });
  await listen(server, config.port, config.host);
  const { port } = server.address() as AddressInfo;
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shown}:${port}`;
  log.info({ url, db: redactDbUrl(config.dbUrl), node: a.nodeId }, `kiln listening on ${url}`);
  const retention = new CallRetention(store, log, { retentionMs: config.callRetentionMs });
  retention.start();
  log.info(
    { tokens: config.authTokens.length, invokesGuarded: authenticate !== undefined && config.authInvoke },
    authenticate ? 'authentication on: the API wants a bearer token (KILN_AUTH_TOKENS)' : 'authentication off: anyone who reaches this port can use the API, by localhost, an IP address or a name KILN_ALLOWED_HOSTS allows (set KILN_AUTH_TOKENS)',
  );
  // A fn given a network reaches the host at its network's gateway address, so on an address
  // other than loopback it reaches this API too, and without tokens could change any app's fns.
  if (!authenticate && !isLoopbackHost(config.host) && a.allowedNetworks.length > 0) {
    log.warn(
      { host: config.host, networks: a.allowedNetworks },
      `authentication off while fns may be given a network (${a.allowedNetworks.join(', ')}): such a fn reaches this API at its network's gateway address and could read and change every app and fn; set KILN_AUTH_TOKENS, or FN_HOST=127.0.0.1 when only this machine calls Kiln, or KILN_ALLOWED_NETWORKS= to give fns no network`,
    );
  }

  // The steps after the agent's: each done is progress too.
  let closedStepAt: number | undefined;
  const step = (): void => {
    closedStepAt = performance.now();
  };
  const stop = async (): Promise<void> => {
    const graceEndsAt = performance.now() + a.shutdownGraceMs;
    log.info({ graceMs: a.shutdownGraceMs, running: agent.stats().running }, 'stopping: no new calls; running ones may finish within KILN_SHUTDOWN_GRACE_MSECS');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await agent.shutdown();
    // A call's answer may still be on its way to a caller who reads slowly (the relay sends what
    // it has not taken): it gets what is left of the grace period, then is cut with the rest.
    if (responses.count > 0 && graceEndsAt > performance.now()) {
      log.info({ responses: responses.count }, 'stopping: waiting, within KILN_SHUTDOWN_GRACE_MSECS, for answers still being sent');
      await responses.settled(graceEndsAt - performance.now());
      if (responses.count > 0) log.info({ responses: responses.count }, 'stopping: KILN_SHUTDOWN_GRACE_MSECS ran out: cutting answers still being sent');
    }
    server.closeAllConnections();
    await closed;
    step();
    releaseBundle?.();
    await pruning;
    step();
    await driver.close();
    await retention.stop();
    step();
    await store.close();
    // Its containers are gone: the node id is free for the next server.
    await releaseNodeId();
    step();
    log.info('stopped');
  };
  const stopProgressAt = (): number | undefined => {
    const at = [agent.stopProgressAt, closedStepAt].filter((t) => t !== undefined);
    return at.length > 0 ? Math.max(...at) : undefined;
  };
  return { url, agent, server, stop, stopProgressAt };
}
