// Typed store failures; api/errors.ts maps them to HTTP in one place.

export type Entity = 'app' | 'fn' | 'trigger' | 'call' | 'log';

export class NotFoundError extends Error {
  constructor(readonly entity: Entity, message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends Error {
  constructor(readonly entity: Entity, message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** A value longer than its column holds (PostgreSQL, MySQL: see SqlStore's tooLong): bad input, stored nowhere. */
export class TooLongError extends Error {
  constructor(readonly entity: Entity, message: string) {
    super(message);
    this.name = 'TooLongError';
  }
}
