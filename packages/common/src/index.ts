export {
  ConflictError,
  DomainError,
  type FieldError,
  InputError,
  NotAllowedError,
  NotAuthenticatedError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  UnavailableError,
} from './errors.ts';
export {
  FieldErrorSchema,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_PREFIX,
  type Problem,
  ProblemSchema,
  problemType,
} from './problem.ts';
