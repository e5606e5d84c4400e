import {
  DomainError,
  type FieldError,
  InputError,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  problemType,
  RateLimitedError,
} from '@leengine/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

/** HTTP status of each domain error code: the only place that knows both. */
const STATUS: Record<string, number> = {
  'invalid-input': 400,
  'not-authenticated': 401,
  'not-allowed': 403,
  'not-found': 404,
  conflict: 409,
  'quota-exceeded': 422,
  'rate-limited': 429,
  unavailable: 503,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const CONTEXT: Record<string, FieldError['in']> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/** Sends one problem+json body. */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Turns any error into a problem: validation, domain, framework (4xx) or internal. */
export function toProblem(error: unknown, request: FastifyRequest): Problem {
  const instance = request.url;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = CONTEXT[(error as { validationContext?: string }).validationContext ?? 'body'];
    const errors = error.validation.flatMap((v): FieldError[] => {
      const path = v.instancePath.split('/').filter(Boolean);
      const at = where ? { in: where } : {};
      // An unknown field is reported at its own path, so clients can point at it.
      const keys = (v.params as { keys?: unknown }).keys;
      if (v.keyword === 'unrecognized_keys' && Array.isArray(keys)) {
        return keys.map((key) => ({
          ...at,
          path: [...path, String(key)].join('.'),
          message: 'is not a known field',
        }));
      }
      return [{ ...at, path: path.join('.'), message: v.message ?? 'invalid' }];
    });
    return {
      type: problemType('invalid-input'),
      title: TITLES[400] as string,
      status: 400,
      detail: `invalid request: ${errors.map((e) => `${e.in ?? ''}${e.path ? `.${e.path}` : ''}: ${e.message}`).join('; ')}`,
      instance,
      errors,
    };
  }
  if (error instanceof DomainError) {
    const status = STATUS[error.code] ?? 500;
    return {
      type: problemType(error.code),
      title: TITLES[status] ?? 'Error',
      status,
      detail: error.message,
      instance,
      ...(error instanceof InputError && error.fields.length > 0 ? { errors: error.fields } : {}),
    };
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    // Framework-level refusals (bad JSON, body too large, wrong content type).
    return {
      type: problemType(frameworkCode(fastifyError.code, status)),
      title: TITLES[status] ?? 'Bad Request',
      status,
      detail: fastifyError.message ?? 'bad request',
      instance,
    };
  }
  return { type: problemType('internal'), title: TITLES[500] as string, status: 500, instance };
}

function frameworkCode(code: string | undefined, status: number): string {
  if (status === 413) return 'body-too-large';
  if (status === 415) return 'unsupported-media-type';
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return 'invalid-json';
  return 'bad-request';
}

/** Installs the one error handler and the not-found handler. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, request);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    if (error instanceof RateLimitedError) reply.header('retry-after', String(error.retryAfterSeconds));
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: problemType('route-not-found'),
      title: TITLES[404] as string,
      status: 404,
      detail: `no route ${request.method} ${request.url.split('?')[0]}`,
      instance: request.url,
    }),
  );
}
