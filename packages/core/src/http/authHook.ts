import { NotAllowedError, NotAuthenticatedError } from '@leengine/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService, Presented } from '../auth/authService.ts';
import type { Caller } from '../auth/caller.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent the request; set by the auth hook on every /api/v1 route that is not public. */
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    /** Served without credentials (the permission table, login). */
    public?: boolean;
  }
}

/** The console's session cookie: httpOnly, SameSite=Strict, Path=/. */
export const SESSION_COOKIE = 'leengine_session';

/**
 * Cookie-authenticated requests that change something must carry this header (any
 * value). A cross-site form or fetch cannot set a custom header without a CORS preflight,
 * which core never answers, so a page elsewhere cannot ride the user's cookie.
 */
export const CLIENT_HEADER = 'x-leengine-client';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The credentials a request carries. A malformed Authorization header is refused. */
export function presentedCredentials(request: FastifyRequest): Presented {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer +([A-Za-z0-9._~+/=-]{1,512})$/.exec(authorization);
    if (!match) throw new NotAuthenticatedError('the Authorization header must be "Bearer <token>"');
    return { bearer: match[1] };
  }
  return { session: sessionCookie(request) };
}

/** The session cookie's value, if the request carries one. */
export function sessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

/** Authenticates every non-public route; anonymous callers stop here with 401. */
export function authHook(auth: AuthService) {
  return async (request: FastifyRequest): Promise<void> => {
    request.caller = null;
    if (request.routeOptions.config.public) return;
    const caller = await auth.authenticate(presentedCredentials(request));
    if (!caller) {
      throw new NotAuthenticatedError('sign in: send "Authorization: Bearer <token>" or the session cookie');
    }
    if (caller.via === 'session' && !SAFE_METHODS.has(request.method)) assertNotCrossSite(request);
    request.caller = caller;
  };
}

function assertNotCrossSite(request: FastifyRequest): void {
  if (!request.headers[CLIENT_HEADER]) {
    throw new NotAllowedError(
      `requests signed in by cookie that change something must send ${CLIENT_HEADER}`,
    );
  }
  const origin = request.headers.origin;
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== request.headers.host)
      throw new NotAllowedError(`cross-origin request from ${origin} refused`);
  }
}

/** The authenticated caller of a non-public route. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new NotAuthenticatedError('not signed in');
  return request.caller;
}

/** Sets the session cookie (Secure when the request came over TLS). */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  secret: string,
  maxAgeSeconds: number,
): void {
  reply.header('set-cookie', cookie(request, secret, maxAgeSeconds));
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', cookie(request, '', 0));
}

function cookie(request: FastifyRequest, value: string, maxAge: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}
