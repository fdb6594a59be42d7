// What the HTTP layer needs, built once by the composition root (api/main.ts).
import type { Logger } from 'pino';
import type { Store } from '../store/types.js';

export interface ApiDeps {
  store: Store;
  log: Logger;
  /** New 26-character, time-sortable id. */
  newId: () => string;
  /** Current time as Fn's RFC 3339 millisecond string. */
  now: () => string;
  version: string;
  maxRequestSize: number;
  publicUrl: string | undefined;
}
