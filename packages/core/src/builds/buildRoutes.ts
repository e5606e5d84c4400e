import { BuildEventSchema } from '@leengine/build';
import {
  BuildLogLineSchema,
  BuildSchema,
  BuildSettingsSchema,
  NotAllowedError,
  TriggerBuildSchema,
  UpdateBuildSettingsSchema,
  WebhookSecretSchema,
} from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamsSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';
import type { BuildStreamEvent } from './logHub.ts';

const tags = ['build'];
const BuildParamsSchema = NameParamsSchema.extend({ number: z.coerce.number().int().min(1) });
const AgentParamsSchema = z.strictObject({ id: z.coerce.number().int().min(1) });
const AGENT_TOKEN_HEADER = 'x-leengine-agent-token';

/** Builds of a build project: settings, triggers, history, cancel, logs (stored and SSE), webhook. */
export function buildRoutes(services: Services): FastifyPluginAsyncZod {
  const builds = services.builds;
  return async (app) => {
    app.get(
      '/build-projects/:name/settings',
      {
        schema: {
          tags,
          summary:
            'Build settings pinned on the platform (compile step, context, tag rule, pinned Dockerfile, webhook filters)',
          params: NameParamsSchema,
          response: { 200: BuildSettingsSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => builds.settings(callerOf(request), request.params.name),
    );
    app.patch(
      '/build-projects/:name/settings',
      {
        schema: {
          tags,
          summary: 'Change the build settings (Master)',
          params: NameParamsSchema,
          body: UpdateBuildSettingsSchema,
          response: { 200: BuildSettingsSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => builds.updateSettings(callerOf(request), request.params.name, request.body),
    );
    app.post(
      '/build-projects/:name/webhook-secret',
      {
        schema: {
          tags,
          summary: "A new GitLab webhook secret, shown once; webhook builds are recorded as the caller's",
          params: NameParamsSchema,
          response: { 201: WebhookSecretSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request, reply) => {
        const base = `${request.protocol}://${request.host}`;
        return reply
          .status(201)
          .send(await builds.rotateWebhookSecret(callerOf(request), request.params.name, base));
      },
    );
    app.post(
      '/build-projects/:name/builds',
      {
        schema: {
          tags,
          summary: 'Start a build (branch or git tag, optional commit, image tag, use cache)',
          params: NameParamsSchema,
          body: TriggerBuildSchema,
          response: { 201: BuildSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await builds.trigger(callerOf(request), request.params.name, request.body)),
    );
    app.get(
      '/build-projects/:name/builds',
      {
        schema: {
          tags,
          summary: 'Build history, newest first',
          params: NameParamsSchema,
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(200).default(50),
            before: z.coerce.number().int().min(1).optional(),
          }),
          response: { 200: z.object({ items: z.array(BuildSchema) }), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => ({
        items: await builds.list(
          callerOf(request),
          request.params.name,
          request.query.limit,
          request.query.before,
        ),
      }),
    );
    app.get(
      '/build-projects/:name/builds/:number',
      {
        schema: {
          tags,
          summary: 'One build: status, commit, tag, digest, agent, timed steps',
          params: BuildParamsSchema,
          response: { 200: BuildSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => builds.get(callerOf(request), request.params.name, request.params.number),
    );
    app.post(
      '/build-projects/:name/builds/:number/cancel',
      {
        schema: {
          tags,
          summary: 'Cancel a queued or running build',
          params: BuildParamsSchema,
          response: { 200: BuildSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request) => builds.cancel(callerOf(request), request.params.name, request.params.number),
    );
    app.get(
      '/build-projects/:name/builds/:number/logs',
      {
        schema: {
          tags,
          summary: 'Stored log lines after `after` (a line sequence number)',
          params: BuildParamsSchema,
          querystring: z.object({ after: z.coerce.number().int().min(0).default(0) }),
          response: {
            200: z.object({ build: BuildSchema, lines: z.array(BuildLogLineSchema) }),
            ...problems(...AUTHENTICATED),
          },
        },
      },
      async (request) => {
        const { build, lines } = await builds.logs(
          callerOf(request),
          request.params.name,
          request.params.number,
          request.query.after,
        );
        return { build, lines };
      },
    );
    app.get(
      '/build-projects/:name/builds/:number/logs/stream',
      {
        schema: {
          tags,
          summary:
            'Server-sent events: `log` (a line, id = its sequence number), `build` (status and steps), `end` once finished; resumes after Last-Event-ID',
          params: BuildParamsSchema,
          querystring: z.object({ after: z.coerce.number().int().min(0).default(0) }),
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const after = Math.max(request.query.after, Number(request.headers['last-event-id'] ?? 0) || 0);
        // Subscribe before reading the stored lines, so nothing falls between the two.
        const first = await builds.logs(
          caller,
          request.params.name,
          request.params.number,
          Number.MAX_SAFE_INTEGER,
        );
        const buffered: BuildStreamEvent[] = [];
        let live: ((e: BuildStreamEvent) => void) | undefined;
        const unsubscribe = builds.hub.subscribe(first.id, (e) => (live ? live(e) : buffered.push(e)));
        const { build, lines } = await builds.logs(caller, request.params.name, request.params.number, after);
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        let lastSeq = after;
        const send = (e: BuildStreamEvent): boolean => {
          if (e.kind === 'log') {
            if (e.line.seq <= lastSeq) return false;
            lastSeq = e.line.seq;
            res.write(`id: ${e.line.seq}\nevent: log\ndata: ${JSON.stringify(e.line)}\n\n`);
            return false;
          }
          res.write(`event: build\ndata: ${JSON.stringify(e.build)}\n\n`);
          return ['succeeded', 'failed', 'canceled'].includes(e.build.status);
        };
        const end = () => {
          unsubscribe();
          res.write('event: end\ndata: {}\n\n');
          res.end();
        };
        for (const line of lines) send({ kind: 'log', line });
        let finished = send({ kind: 'build', build });
        for (const e of buffered) finished = send(e) || finished;
        if (finished) return end();
        const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
        live = (e) => {
          if (send(e)) {
            clearInterval(heartbeat);
            end();
          }
        };
        request.raw.on('close', () => {
          clearInterval(heartbeat);
          unsubscribe();
        });
      },
    );
    app.post(
      '/build-projects/:name/webhooks/gitlab',
      {
        config: { public: true },
        schema: {
          tags,
          summary: "GitLab push and tag push webhook (X-Gitlab-Token must be the project's webhook secret)",
          params: NameParamsSchema,
          body: z.unknown(),
          response: {
            200: z.object({ build: BuildSchema.nullable(), ignored: z.string().optional() }),
            ...problems(400, 403, 404, 409),
          },
        },
      },
      async (request) => {
        const token = request.headers['x-gitlab-token'];
        return builds.gitlabWebhook(
          request.params.name,
          typeof token === 'string' ? token : undefined,
          request.body,
        );
      },
    );

    // ---- build agents (shared agent secret, not a user)
    const agentOnly = (token: unknown) => {
      if (!builds.agentAllowed(typeof token === 'string' ? token : undefined)) {
        throw new NotAllowedError('build agents only: send the agent token');
      }
    };
    app.post(
      '/build-agent/builds/:id/events',
      {
        config: { public: true },
        schema: {
          tags: ['build-agent'],
          summary: 'A build agent reports timed steps, output and the result of a build it runs',
          params: AgentParamsSchema,
          body: z.object({
            agentId: z.string(),
            taskId: z.string(),
            events: z.array(BuildEventSchema).max(10_000),
          }),
          response: { 204: z.null(), ...problems(400, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        agentOnly(request.headers[AGENT_TOKEN_HEADER]);
        const { agentId, taskId, events } = request.body;
        await builds.agentEvents(agentId, request.params.id, taskId, events);
        return reply.status(204).send(null);
      },
    );
    app.post(
      '/build-agent/builds/:id/registry-credential',
      {
        config: { public: true },
        schema: {
          tags: ['build-agent'],
          summary: 'A short-lived credential to pull and push for a build the agent runs',
          params: AgentParamsSchema,
          body: z.object({ agentId: z.string(), taskId: z.string() }),
          response: {
            200: z.object({
              credential: z.object({ username: z.string(), password: z.string() }).nullable(),
            }),
            ...problems(400, 403),
          },
        },
      },
      async (request, reply) => {
        agentOnly(request.headers[AGENT_TOKEN_HEADER]);
        const { agentId, taskId } = request.body;
        const credential = await builds.registryCredential(agentId, request.params.id, taskId);
        reply.header('cache-control', 'no-store');
        return { credential: credential && { username: credential.username, password: credential.password } };
      },
    );
    app.get(
      '/build-agents',
      {
        schema: {
          tags: ['build-agent'],
          summary: 'Live build agents (admins)',
          response: {
            200: z.object({ items: z.array(z.record(z.string(), z.unknown())) }),
            ...problems(...AUTHENTICATED),
          },
        },
      },
      async (request) => {
        if (!callerOf(request).admin) throw new NotAllowedError('admins only');
        return { items: builds.agents() };
      },
    );
  };
}
