import { DomainError } from '@leengine/common';

/** No free address (or block) is left where the request may take one. */
export class ExhaustedError extends DomainError {
  readonly code = 'exhausted';
}

/** etcd kept changing under a compare-and-swap loop; the caller may retry later. */
export class ContentionError extends DomainError {
  readonly code = 'contention';
}
