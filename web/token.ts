// The API token the page sends when the server has KILN_AUTH_TOKENS set. It is kept in this
// page's memory only, never in Web Storage: HTTP triggers are served from the same origin as
// the web view, and a trigger's page is a function's content, whose scripts could read the
// origin's storage. A reload asks again (the input lets a password manager fill it).

/** The part of the Web Storage API the page touches (sessionStorage in the page). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Where earlier versions of the page kept the token in sessionStorage. */
export const LEGACY_KEY = 'kiln.token';

/**
 * What an HTTP header can carry after `Bearer ` (RFC 6750's b64token, as the server's
 * KILN_AUTH_TOKENS must be); anything else would make fetch throw before reaching the server.
 */
export const TOKEN_SHAPE = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Removes a token an earlier version of the page left in the tab's sessionStorage, so a
 * trigger's page cannot read it there. Blocked storage (reading it throws) holds nothing.
 */
export function forgetStoredToken(win: { readonly sessionStorage: KeyValueStorage }): void {
  try {
    win.sessionStorage.removeItem(LEGACY_KEY);
  } catch {
    // storage blocked: nothing was kept
  }
}

export class TokenStore {
  private token: string | undefined;

  get(): string | undefined {
    return this.token;
  }

  /** Keeps `token` trimmed; an empty one clears it. */
  set(token: string): void {
    const t = token.trim();
    this.token = t === '' ? undefined : t;
  }

  clear(): void {
    this.token = undefined;
  }
}
