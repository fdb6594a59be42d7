// Requests that name nothing Kiln serves; api/errors.ts answers them as Fn does.

/** A path that names no route (or fn, or trigger): 404 `Path not found: METHOD /path`. */
export class PathNotFoundError extends Error {
  constructor(method: string | undefined, path: string) {
    super(`Path not found: ${method} ${path}`);
    this.name = 'PathNotFoundError';
  }
}

/**
 * A known path asked with a method it does not take: 405, with `Allow` naming the methods it
 * does (RFC 9110 §15.5.6).
 */
export class MethodNotAllowedError extends Error {
  constructor(method: string | undefined, path: string, readonly allow: readonly string[]) {
    super(`Method not allowed: ${method} ${path}`);
    this.name = 'MethodNotAllowedError';
  }
}
