/**
 * Domain errors, defined once and independent of HTTP: services throw these, and one
 * place at the edge (core's error handler) maps them to a status and a problem body.
 */

/** One offending input field. `path` is dot-separated (`env.0.name`); `in` where it was. */
export interface FieldError {
  in?: 'body' | 'query' | 'params' | 'headers' | 'config';
  path: string;
  message: string;
}

export abstract class DomainError extends Error {
  /** Stable machine-readable code; the problem `type` is derived from it. */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The caller sent something invalid; `fields` says which parts and why. */
export class InputError extends DomainError {
  readonly code = 'invalid-input';
  readonly fields: FieldError[];

  constructor(message: string, fields: FieldError[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.fields = fields;
  }
}

/** No such resource, or the caller may not know it exists (non-members get this, not 403). */
export class NotFoundError extends DomainError {
  readonly code = 'not-found';
}

/** The request conflicts with current state (duplicate name, last Owner leaving, ...). */
export class ConflictError extends DomainError {
  readonly code = 'conflict';
}

/** The caller is known and may see the resource, but may not do this. */
export class NotAllowedError extends DomainError {
  readonly code = 'not-allowed';
}

/** No valid credentials. */
export class NotAuthenticatedError extends DomainError {
  readonly code = 'not-authenticated';
}

/** A quota would be exceeded. */
export class QuotaExceededError extends DomainError {
  readonly code = 'quota-exceeded';
}

/** Too many attempts (e.g. failed logins); `retryAfterSeconds` tells when to try again. */
export class RateLimitedError extends DomainError {
  readonly code = 'rate-limited';
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A dependency (database, etcd, a cell) is not answering. */
export class UnavailableError extends DomainError {
  readonly code = 'unavailable';
}
