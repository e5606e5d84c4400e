import { DomainError, InputError, NotAuthenticatedError, RateLimitedError } from '@leengine/common';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { RegistryEvent, RegistryService } from './registryService.ts';
import type { IssuedToken, Principal, RegistryTokenService } from './registryTokenService.ts';
import { parseScopes, type RequestedScope } from './scope.ts';

export interface RegistryRoutesDeps {
  tokens: RegistryTokenService;
  registry: RegistryService;
}

/** The path of the token endpoint: the registry's `auth.token.realm` is core's URL plus this. */
export const TOKEN_PATH = '/v2/token';
/** Where the registry posts its notifications (`notifications.endpoints[].url`). */
export const EVENTS_PATH = '/registry/events';
const EVENTS_TYPE = 'application/vnd.docker.distribution.events.v1+json';

/**
 * The two endpoints the registry and its clients call, outside /api/v1 because their
 * shapes are the registry's, not ours: the token endpoint (GET per the Docker token spec,
 * POST per its OAuth2 form) and the notification sink. Errors are answered in the
 * registry's error shape, which docker, buildah, skopeo and containerd print.
 */
export function registryRoutes(deps: RegistryRoutesDeps): FastifyPluginAsync {
  return async (app) => {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    app.addContentTypeParser(EVENTS_TYPE, { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch (error) {
        done(new InputError('the body is not JSON', [], { cause: error }) as unknown as Error, undefined);
      }
    });
    app.setErrorHandler((error, request, reply) => registryError(error, request, reply));

    app.get(TOKEN_PATH, { schema: { hide: true } }, async (request, reply) => {
      const query = request.query as Record<string, string | string[] | undefined>;
      const scopes = scopesOf(list(query.scope));
      const principal = await deps.tokens.authenticate(basicCredentials(request), request.ip);
      const issued = await deps.tokens.issue(principal, single(query.service, 'service'), scopes);
      logIssued(request, principal, issued);
      return reply.header('cache-control', 'no-store').send({
        token: issued.token,
        access_token: issued.token,
        expires_in: issued.expiresIn,
        issued_at: issued.issuedAt,
      });
    });

    app.post(TOKEN_PATH, { schema: { hide: true } }, async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, string | undefined>;
      if (form.grant_type !== 'password') {
        // Refresh tokens are not issued (clients fall back to GET with their credentials).
        return reply.status(400).send({
          error: 'unsupported_grant_type',
          error_description: 'only grant_type=password is supported; refresh tokens are not issued',
        });
      }
      if (!form.username || form.password === undefined) {
        throw new NotAuthenticatedError('username and password are required');
      }
      const scopes = scopesOf(list(form.scope));
      const principal = await deps.tokens.authenticate(
        { username: form.username, password: form.password },
        request.ip,
      );
      const issued = await deps.tokens.issue(principal, form.service, scopes);
      logIssued(request, principal, issued);
      return reply.header('cache-control', 'no-store').send({
        access_token: issued.token,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        issued_at: issued.issuedAt,
        scope: issued.access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`).join(' '),
      });
    });

    app.post(EVENTS_PATH, { schema: { hide: true } }, async (request, reply) => {
      if (!deps.registry.acceptsNotification(request.headers.authorization)) {
        throw new NotAuthenticatedError('registry notifications need the configured shared secret');
      }
      const body = request.body as { events?: RegistryEvent[] } | undefined;
      if (!body || !Array.isArray(body.events)) throw new InputError('expected an envelope with "events"');
      const result = await deps.registry.recordEvents(body.events);
      return reply.send(result);
    });
  };
}

/** Basic credentials of the request, if any; a malformed header is refused, not ignored. */
function basicCredentials(request: FastifyRequest): { username: string; password: string } | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Basic +([A-Za-z0-9+/=]{1,2048})$/i.exec(header);
  if (!match) throw new NotAuthenticatedError('the Authorization header must be "Basic <credentials>"');
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new NotAuthenticatedError('malformed Basic credentials');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function single(value: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(value)) throw new InputError(`"${name}" given more than once`);
  return value;
}

function scopesOf(values: string[]): RequestedScope[] {
  const scopes = parseScopes(values);
  if (!scopes) throw new InputError('malformed scope: expected type:name:action[,action...]');
  if (scopes.length > 50) throw new InputError('at most 50 scopes per token');
  return scopes;
}

/** One line per token: who, what was granted. Never the credentials or the token itself. */
function logIssued(request: FastifyRequest, principal: Principal, issued: IssuedToken): void {
  request.log.info(
    {
      subject: issued.subject,
      via: principal.kind === 'user' ? principal.caller.via : principal.kind,
      access: issued.access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`),
    },
    'registry token issued',
  );
}

const ERROR_CODES: Record<string, [number, string]> = {
  'invalid-input': [400, 'UNSUPPORTED'],
  'not-authenticated': [401, 'UNAUTHORIZED'],
  'rate-limited': [429, 'TOOMANYREQUESTS'],
  unavailable: [503, 'UNAVAILABLE'],
};

/** Errors in distribution's shape: `{"errors": [{"code", "message"}]}`. */
function registryError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof DomainError && ERROR_CODES[error.code]) {
    const [status, code] = ERROR_CODES[error.code] as [number, string];
    if (status === 401) reply.header('www-authenticate', 'Basic realm="LeEngine registry"');
    if (error instanceof RateLimitedError) reply.header('retry-after', String(error.retryAfterSeconds));
    return reply.status(status).send({ errors: [{ code, message: error.message }] });
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status && status >= 400 && status < 500) {
    return reply
      .status(status)
      .send({ errors: [{ code: 'UNSUPPORTED', message: (error as Error).message }] });
  }
  request.log.error({ err: error }, 'registry endpoint failed');
  return reply.status(500).send({ errors: [{ code: 'UNKNOWN', message: 'internal error' }] });
}
