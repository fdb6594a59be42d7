// The API token the page sends when the server has KILN_AUTH_TOKENS set: kept in the tab's
// sessionStorage, so it goes with the tab and is never written to disk by the page; and in
// memory as well, for a browser that refuses storage (the token then lasts until a reload).

/** The part of the Web Storage API the store uses (sessionStorage in the page). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const KEY = 'kiln.token';

/**
 * What an HTTP header can carry after `Bearer ` (RFC 6750's b64token, as the server's
 * KILN_AUTH_TOKENS must be); anything else would make fetch throw before reaching the server.
 */
export const TOKEN_SHAPE = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The page's sessionStorage, or undefined where reading it throws (storage blocked). */
export function sessionStore(win: { readonly sessionStorage: KeyValueStorage }): KeyValueStorage | undefined {
  try {
    return win.sessionStorage;
  } catch {
    return undefined;
  }
}

export class TokenStore {
  private memory: string | undefined;

  constructor(private readonly storage: KeyValueStorage | undefined) {
    try {
      this.memory = storage?.getItem(KEY) ?? undefined;
    } catch {
      this.memory = undefined; // storage refused (privacy settings): memory only
    }
  }

  get(): string | undefined {
    return this.memory;
  }

  /** Keeps `token` trimmed; an empty one clears it. */
  set(token: string): void {
    const t = token.trim();
    if (t === '') return this.clear();
    this.memory = t;
    try {
      this.storage?.setItem(KEY, t);
    } catch {
      // storage refused: the token lasts as long as this page does not reload
    }
  }

  clear(): void {
    this.memory = undefined;
    try {
      this.storage?.removeItem(KEY);
    } catch {
      // nothing stored
    }
  }
}
