// The API token the page sends when the server has KILN_AUTH_TOKENS set: kept in the tab's
// sessionStorage, so it goes with the tab and is never written to disk by the page.

/** The part of the Web Storage API the store uses (sessionStorage in the page). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const KEY = 'kiln.token';

export class TokenStore {
  constructor(private readonly storage: KeyValueStorage | undefined) {}

  get(): string | undefined {
    try {
      return this.storage?.getItem(KEY) ?? undefined;
    } catch {
      return undefined; // storage refused (privacy settings): no token
    }
  }

  /** Keeps `token` trimmed; an empty one clears it. */
  set(token: string): void {
    const t = token.trim();
    if (t === '') return this.clear();
    try {
      this.storage?.setItem(KEY, t);
    } catch {
      // storage refused: the token lasts as long as this page does not reload
    }
  }

  clear(): void {
    try {
      this.storage?.removeItem(KEY);
    } catch {
      // nothing stored
    }
  }
}
