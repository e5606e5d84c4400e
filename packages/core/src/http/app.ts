import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { registryRoutes } from '../registry/registryRoutes.ts';
import type { Services } from '../services.ts';
import { apiV1 } from './api.ts';
import { CLIENT_HEADER, SESSION_COOKIE } from './authHook.ts';
import { registerConsole } from './console.ts';
import { healthRoutes, type ReadinessCheck } from './health.ts';
import { registerProblemHandlers } from './problems.ts';
import { logFailedAndSlowRequests } from './requestLog.ts';
import { fastSerializerCompiler } from './responseSerializer.ts';

export interface AppDeps {
  logger: FastifyBaseLogger;
  readiness: ReadinessCheck[];
  /** Version reported in the OpenAPI document. */
  version: string;
  /** The domain services behind /api/v1; without them only health and OpenAPI are served. */
  services?: Services;
  /** The built console to serve at `/`, if any. */
  consoleDir?: string;
  /**
   * Addresses or CIDRs of the reverse proxies whose X-Forwarded-* headers are believed
   * (`request.ip` for the login limiter); none by default.
   */
  trustedProxies?: string[] | undefined;
  /**
   * Check every response against its zod schema (tests; default) instead of only writing
   * the schema's fields (responseSerializer.ts).
   */
  validateResponses?: boolean;
}

/** The API server, typed with the zod provider. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** Body size limit for the JSON API; larger requests get a 413 problem. */
const BODY_LIMIT = 1024 * 1024;

/** Builds the HTTP API: problem handlers, OpenAPI document, health and /api/v1. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT,
    // Behind nginx in a region; request ids are propagated from it when present.
    requestIdHeader: 'x-request-id',
    // request.ip is the nearest untrusted hop of X-Forwarded-For, read from the right: a
    // client cannot pose as someone else by sending the header itself (through the proxy
    // it is appended to; directly, it is ignored).
    trustProxy: deps.trustedProxies?.length ? deps.trustedProxies : false,
    // Only failed and slow requests are logged (requestLog.ts).
    disableRequestLogging: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(deps.validateResponses === false ? fastSerializerCompiler : serializerCompiler);
  registerProblemHandlers(app);
  logFailedAndSlowRequests(app);
  // The API speaks JSON only: any other body is a 415, not a string to validate.
  app.removeContentTypeParser('text/plain');

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'LeEngine API',
        version: deps.version,
        description:
          'leengine-core: applications, image repositories, image groups and build projects, with GitLab-style members and roles. Errors are application/problem+json (RFC 9457).',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          token: { type: 'http', scheme: 'bearer', description: 'A personal access token (lee_pat_...)' },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: SESSION_COOKIE,
            description: `The console's session; requests that change something must also send ${CLIENT_HEADER}`,
          },
        },
      },
      security: [{ token: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  await app.register(healthRoutes(deps.readiness));
  if (deps.services) {
    await app.register(apiV1(deps.services), { prefix: '/api/v1' });
    // The registry's token endpoint and notification sink, in the registry's own shapes.
    await app.register(
      registryRoutes({ tokens: deps.services.registryTokens, registry: deps.services.registry }),
    );
  }
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (deps.consoleDir) await registerConsole(app, deps.consoleDir);
  return app;
}
