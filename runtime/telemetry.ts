// Telemetry API 2022-07-01 and Logs API 2020-08-15: subscriptions taken during init, and
// batched delivery of `platform.*`, `function` and `extension` events to each subscriber, by
// HTTP POST (a JSON array a batch) or over TCP (NDJSON, telemetry-tcp.ts).
import { request } from 'node:http';
import { activeTimeout } from './active-timer.js';
import { delay, within } from './deferred.js';
import { LambdaApiError } from './errors.js';
import { forLogs, type TelemetryEvent } from './event-shapes.js';
import { TcpSender } from './telemetry-tcp.js';

export type { TelemetryEvent } from './event-shapes.js';
export type EventCategory = 'platform' | 'function' | 'extension';

/** Where a subscriber listens: always this container's loopback. */
export type Destination =
  | { protocol: 'HTTP'; host: string; port: number; path: string }
  | { protocol: 'TCP'; host: string; port: number };

export interface Subscription {
  api: 'telemetry' | 'logs';
  /** The record shapes the subscriber asked for (the Logs API's differ by version). */
  schemaVersion: string;
  extension: string;
  types: EventCategory[];
  destination: Destination;
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

const TELEMETRY_SCHEMAS = ['2022-07-01', '2022-12-13', '2025-01-29'];
const LOGS_SCHEMAS = ['2020-08-15', '2021-03-18'];
const CATEGORIES: EventCategory[] = ['platform', 'function', 'extension'];
const SANDBOX_HOSTS = ['sandbox.localdomain', 'sandbox'];
/** A port written in a URI's authority (`http://host:80/`). */
const EXPLICIT_PORT = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*:(\d+)(?=[/?#]|$)/i;
/** The sandbox name resolves to this container's loopback; the service delivers only inside the environment. */
const LOOPBACK = '127.0.0.1';
/** Attempts after the first at delivering one batch, and the longest wait between two. */
const MAX_RETRIES = 5;
const MAX_BACKOFF_MS = 1000;
/** Events kept from init for subscribers that join later in init. */
const INIT_BUFFER = 1000;
/**
 * The longest one HTTP delivery may take, from connecting to its answer's status, in the
 * container's running time (a freeze does not count: see active-timer.ts).
 */
export const DELIVERY_MS = 5000;
/** A drain's pause after a failed attempt, so that a listener that is gone is not hammered. */
const DRAIN_RETRY_MS = 50;

/** The Logs API names its validation error `Logs.ValidationError`, the Telemetry API plain `ValidationError`, as documented. */
export const validation = (api: 'telemetry' | 'logs', msg: string) =>
  new LambdaApiError(400, api === 'telemetry' ? 'ValidationError' : 'Logs.ValidationError', `${api === 'telemetry' ? 'Telemetry' : 'Logs'} API: ${msg}`);

function inRange(api: 'telemetry' | 'logs', v: unknown, name: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw validation(api, `buffering.${name} must be an integer from ${min} to ${max}`);
  }
  return v;
}

/**
 * Validates a subscription body (pure; throws 400 ValidationError). `apiPort`: the Lambda APIs'
 * own port, which the service reserves (a subscriber cannot listen there).
 */
export function parseSubscription(api: 'telemetry' | 'logs', extension: string, body: unknown, apiPort?: number): Subscription {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validation(api, 'the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const schemas = api === 'telemetry' ? TELEMETRY_SCHEMAS : LOGS_SCHEMAS;
  // Checked as a string before use: String() of a crafted value throws (an object with a bad
  // toString) or overflows the stack (an array nested 100,000 deep).
  // Required by the Telemetry API; the older Logs API defaults it.
  if (api === 'telemetry' && b.schemaVersion === undefined) throw validation(api, 'schemaVersion is required');
  if (b.schemaVersion !== undefined && (typeof b.schemaVersion !== 'string' || !schemas.includes(b.schemaVersion))) {
    throw validation(api, `schemaVersion must be one of ${schemas.join(', ')}`);
  }
  if (!Array.isArray(b.types) || b.types.length === 0 || !b.types.every((t) => CATEGORIES.includes(t as EventCategory))) {
    throw validation(api, `types must be a non-empty list of ${CATEGORIES.join(', ')}`);
  }
  const destination = parseDestination(api, b.destination);
  if (destination.port === apiPort) throw validation(api, `destination port ${apiPort} is reserved for the Lambda APIs`);
  // An object when given, as the service's schema has it.
  if (b.buffering !== undefined && (typeof b.buffering !== 'object' || b.buffering === null || Array.isArray(b.buffering))) {
    throw validation(api, 'buffering must be an object');
  }
  const buf = (b.buffering ?? {}) as Record<string, unknown>;
  return {
    api,
    schemaVersion: typeof b.schemaVersion === 'string' ? b.schemaVersion : schemas[0]!,
    extension,
    types: [...new Set(b.types as EventCategory[])],
    destination,
    // The one default the two APIs differ on: the Telemetry API's is 1,000, the Logs API's 10,000.
    maxItems: inRange(api, buf.maxItems, 'maxItems', 1000, 10000, api === 'telemetry' ? 1000 : 10000),
    maxBytes: inRange(api, buf.maxBytes, 'maxBytes', 262144, 1048576, 262144),
    timeoutMs: inRange(api, buf.timeoutMs, 'timeoutMs', 25, 30000, 1000),
  };
}

/**
 * HTTP: `URI` http://sandbox.localdomain:PORT/PATH. TCP: `port`, an integer (the docs give
 * no URI for it). Other fields are ignored, as a JSON decoder into the service's types does.
 */
function parseDestination(api: 'telemetry' | 'logs', value: unknown): Destination {
  if (typeof value !== 'object' || value === null) throw validation(api, 'destination is required');
  const d = value as Record<string, unknown>;
  if (d.protocol === 'TCP') {
    const port = d.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw validation(api, 'destination.port must be an integer from 1 to 65535 for TCP');
    }
    return { protocol: 'TCP', host: LOOPBACK, port };
  }
  if (d.protocol !== 'HTTP') throw validation(api, 'destination.protocol must be HTTP or TCP');
  let url: URL;
  try {
    if (typeof d.URI !== 'string') throw new TypeError('not a string');
    url = new URL(d.URI);
  } catch {
    throw validation(api, 'destination.URI must be an http URL');
  }
  if (url.protocol !== 'http:' || !SANDBOX_HOSTS.includes(url.hostname)) {
    throw validation(api, 'destination.URI must be http://sandbox.localdomain:PORT/...');
  }
  // No port (or port 0, which is none) is refused, as the service refuses it. The URL parser
  // drops a given :80 (http's default), so a port is read from the text too.
  const port = url.port !== '' ? Number(url.port) : Number(EXPLICIT_PORT.exec(d.URI)?.[1] ?? 0);
  if (port === 0) throw validation(api, 'URI port is not provided');
  return { protocol: 'HTTP', host: LOOPBACK, port, path: `${url.pathname}${url.search}` };
}

const categoryOf = (type: string): EventCategory => (type.startsWith('platform.') ? 'platform' : (type as EventCategory));

/** Where a subscription delivers, as a key: one subscription an extension and destination. */
const destinationKey = (d: Destination): string => (d.protocol === 'TCP' ? `TCP ${d.port}` : `HTTP ${d.port} ${d.path}`);

/** How a batch reaches a subscriber: true once delivered (HTTP: a 2xx answer; TCP: written). */
interface Transport {
  send(batch: TelemetryEvent[]): Promise<boolean>;
  close(): void;
}

/**
 * One POST a batch, a JSON array. The answer's status is the acknowledgement: a 2xx counts as
 * delivered as soon as it arrives (once; a body trickled after it changes nothing), and the
 * whole delivery is bounded by DELIVERY_MS, not only its idle time: a subscriber that answers a
 * byte a second would otherwise hold its one delivery in flight, and so all of its events, for good.
 */
function httpTransport(d: Extract<Destination, { protocol: 'HTTP' }>): Transport {
  return {
    send: (batch) => {
      const body = Buffer.from(JSON.stringify(batch));
      return new Promise((resolve) => {
        let answered = false;
        const finish = (ok: boolean) => {
          if (answered) return;
          answered = true;
          resolve(ok);
        };
        const req = request(
          {
            host: d.host, port: d.port, path: d.path, method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': body.length },
          },
          (res) => {
            finish((res.statusCode ?? 500) < 300);
            // The body is read and dropped, within the same bound (then the connection is cut).
            res.resume();
            res.on('error', () => {});
            res.on('end', () => bound.clear());
          },
        );
        const bound = activeTimeout(DELIVERY_MS, () => {
          req.destroy();
          finish(false);
        });
        req.on('error', () => {
          bound.clear();
          finish(false);
        });
        req.on('close', () => bound.clear());
        req.end(body);
      });
    },
    close: () => {},
  };
}

/** What a subscriber had not got when the shutdown's budget ran out. */
export interface Undelivered {
  extension: string;
  records: number;
  bytes: number;
}

/** One subscriber's queue: batches flushed on size or timeout, one delivery in flight. */
class Subscriber {
  private queue: { event: TelemetryEvent; bytes: number }[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The delivery in flight (one at a time), settled once it is over either way. */
  private sending: Promise<void> | undefined;
  /** Events dropped since the last notice, and when the first of them was. */
  private dropped = { records: 0, bytes: 0, since: '' };
  /** Failed attempts at the batch at the head of the queue. */
  private failures = 0;
  /** Set at a reset: a retry in flight must not reach the next generation's listener. */
  private closed = false;

  private readonly transport: Transport;

  constructor(readonly sub: Subscription) {
    const d = sub.destination;
    this.transport = d.protocol === 'TCP' ? new TcpSender(d.host, d.port) : httpTransport(d);
  }

  push(event: TelemetryEvent): void {
    const shaped = this.sub.api === 'logs' ? forLogs(event, this.sub.schemaVersion) : [event];
    for (const e of shaped) this.enqueue(e);
  }

  private enqueue(event: TelemetryEvent): void {
    if (!this.sub.types.includes(categoryOf(event.type))) return;
    const bytes = Buffer.byteLength(JSON.stringify(event));
    // A slow consumer loses events rather than growing the daemon without bound.
    if (this.queue.length >= this.sub.maxItems * 2 || this.bytes + bytes > this.sub.maxBytes * 4) {
      this.drop(1, bytes);
      return;
    }
    this.queue.push({ event, bytes });
    this.bytes += bytes;
    if (this.queue.length >= this.sub.maxItems || this.bytes >= this.sub.maxBytes) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.sub.timeoutMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || this.sending || (this.queue.length === 0 && this.dropped.records === 0)) return;
    if (this.dropped.records > 0) {
      // The notice goes first, as the service sends it: queued behind what was already waiting,
      // a consumer that fell behind heard of its loss batches later, or (at a retirement) never.
      const e = { time: this.dropped.since, type: 'platform.logsDropped', record: this.dropRecord() };
      this.dropped = { records: 0, bytes: 0, since: '' };
      const bytes = Buffer.byteLength(JSON.stringify(e));
      this.queue.unshift({ event: e, bytes });
      this.bytes += bytes;
    }
    const items: { event: TelemetryEvent; bytes: number }[] = [];
    let size = 0;
    while (this.queue.length && items.length < this.sub.maxItems && (items.length === 0 || size + this.queue[0]!.bytes <= this.sub.maxBytes)) {
      const item = this.queue.shift()!;
      items.push(item);
      size += item.bytes;
    }
    this.bytes -= size;
    this.sending = this.transport.send(items.map((i) => i.event)).then((ok) => {
      this.sending = undefined;
      if (ok) this.failures = 0;
      else if (++this.failures <= MAX_RETRIES) {
        // The service retries with backoff (a listener that is not up yet must not lose init's events).
        this.queue.unshift(...items);
        this.bytes += size;
      } else {
        // A batch the consumer keeps refusing is dropped, and the consumer told so.
        this.failures = 0;
        this.drop(items.length, size);
      }
      const wait = this.failures === 0 ? 0 : Math.min(Math.max(this.sub.timeoutMs, 100) * 2 ** (this.failures - 1), MAX_BACKOFF_MS);
      if (this.queue.length || this.dropped.records > 0) this.timer ??= setTimeout(() => this.flush(), wait);
    });
  }

  private dropRecord(): object {
    return { droppedRecords: this.dropped.records, droppedBytes: this.dropped.bytes, reason: 'Consumer seems to have fallen behind as it has not acknowledged receipt of logs.' };
  }

  /** The delivery in flight, if any (settles either way). */
  get inFlight(): Promise<void> | undefined {
    return this.sending;
  }

  /**
   * A shutdown: the batch in flight, then what is queued, batch after batch, until all is
   * delivered or the deadline (epoch ms) comes.
   */
  async drain(deadline: number): Promise<void> {
    while (!this.closed && Date.now() < deadline) {
      if (!this.sending) {
        if (this.queue.length === 0 && this.dropped.records === 0) return;
        this.flush();
      }
      const before = this.failures;
      await untilOr(this.sending, deadline);
      // A refusal (the listener gone or not up): a short pause, not a tight loop.
      if (this.failures > before) await untilOr(delay(DRAIN_RETRY_MS).promise, deadline);
    }
  }

  /** What has not gone out (a batch in flight may yet be taken, so it does not count). */
  get undelivered(): Undelivered | undefined {
    const records = this.queue.length + this.dropped.records;
    if (records === 0) return undefined;
    return { extension: this.sub.extension, records, bytes: this.bytes + this.dropped.bytes };
  }

  private drop(records: number, bytes: number): void {
    if (this.dropped.records === 0) this.dropped.since = new Date().toISOString();
    this.dropped.records += records;
    this.dropped.bytes += bytes;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.transport.close();
  }
}

export class Telemetry {
  /** By extension and destination (see subscribe). */
  private readonly subscribers = new Map<string, Subscriber>();
  /** Init-phase events, replayed to subscribers as they join during init. */
  private initEvents: TelemetryEvent[] = [];
  private open = true;

  /**
   * Takes a subscription; only during init (403 after). An extension may subscribe several
   * destinations (the OpenTelemetry collector subscribes platform events to one listener and
   * function logs to another); the same destination again is idempotent, as documented: the
   * first subscription stands, and init's events are not sent twice.
   */
  subscribe(sub: Subscription): void {
    if (!this.open) {
      const name = sub.api === 'telemetry' ? 'Telemetry' : 'Logs';
      throw new LambdaApiError(403, `${name}.SubscriptionClosed`, `${name} API subscription is closed`);
    }
    for (const other of this.subscribers.values()) {
      if (other.sub.extension === sub.extension && other.sub.api !== sub.api) {
        throw validation(sub.api, 'an extension can use either the Telemetry API or the Logs API, not both');
      }
    }
    const key = `${sub.extension}\n${destinationKey(sub.destination)}`;
    if (this.subscribers.has(key)) {
      this.emit('platform.telemetrySubscription', { name: sub.extension, state: 'Already subscribed', types: sub.types });
      return;
    }
    const s = new Subscriber(sub);
    this.subscribers.set(key, s);
    for (const e of this.initEvents) s.push(e);
    this.emit('platform.telemetrySubscription', { name: sub.extension, state: 'Subscribed', types: sub.types });
  }

  /** Whether an event emitted now would reach anyone: callers on an invoke's path skip building records otherwise. */
  get listening(): boolean {
    return this.open || this.subscribers.size > 0;
  }

  emit(type: string, record: unknown): void {
    const event: TelemetryEvent = { time: new Date().toISOString(), type, record };
    if (this.open && this.initEvents.length < INIT_BUFFER) this.initEvents.push(event);
    for (const s of this.subscribers.values()) s.push(event);
  }

  /** Init is over: no more subscriptions; the init buffer is dropped. */
  closeSubscriptions(): void {
    this.open = false;
    this.initEvents = [];
  }

  /**
   * A re-init (after a reset) takes subscriptions again, from the new extensions; the events of
   * an init that failed are not replayed to them (they would see two initStarts and old logs).
   */
  reopen(): void {
    for (const s of this.subscribers.values()) s.close();
    this.subscribers.clear();
    this.initEvents = [];
    this.open = true;
  }

  /**
   * Resolves once no delivery is in flight, or at `until` (epoch ms): the container may be frozen
   * then without cutting a delivery whose answer is on its way (that retried a batch its consumer
   * had taken, and dropped it after the retries although every copy had been acknowledged).
   */
  async deliveriesSettled(until: number): Promise<void> {
    for (;;) {
      const inFlight = [...this.subscribers.values()].map((s) => s.inFlight).filter((p) => p !== undefined);
      if (inFlight.length === 0 || Date.now() >= until) return;
      await untilOr(Promise.all(inFlight), until);
      // A follow-up batch starts in a timer of 0 ms: let it begin before looking again.
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  /** A shutdown: every subscriber's queue delivered by `deadline` (epoch ms), as far as it goes. */
  async drain(deadline: number): Promise<void> {
    await Promise.all([...this.subscribers.values()].map((s) => s.drain(deadline)));
  }

  /** What each subscriber has not been sent yet. */
  undelivered(): Undelivered[] {
    return [...this.subscribers.values()].map((s) => s.undelivered).filter((u) => u !== undefined);
  }
}

/** Waits for `p` (if any) or the deadline (epoch ms), whichever comes first. */
async function untilOr(p: Promise<unknown> | undefined, deadline: number): Promise<void> {
  if (p) await within(p, deadline - Date.now());
}
