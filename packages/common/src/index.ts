export * from './api/activity.ts';
export * from './api/builds.ts';
export * from './api/fixedAddresses.ts';
export * from './api/ipam.ts';
export * from './api/members.ts';
export * from './api/names.ts';
export * from './api/operations.ts';
export * from './api/pagination.ts';
export * from './api/pullSecrets.ts';
export * from './api/quotas.ts';
export * from './api/regions.ts';
export * from './api/registry.ts';
export * from './api/resources.ts';
export * from './api/roles.ts';
export * from './api/runtime.ts';
export * from './api/slb.ts';
export * from './api/slbFields.ts';
export * from './api/statistics.ts';
export * from './api/users.ts';
export * from './api/versions.ts';
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
export * from './permissions.ts';
export {
  FieldErrorSchema,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_PREFIX,
  type Problem,
  ProblemSchema,
  problemType,
} from './problem.ts';
