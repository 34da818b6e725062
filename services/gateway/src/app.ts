/**
 * The gateway application: a Fastify instance built from its dependencies. Tests build it and
 * call routes with `inject()`; `main.ts` adds only process concerns (listen, shutdown).
 */
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type onRequestHookHandler, type RouteOptions } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { GatewayError } from "./errors.js";
import type { Fleet } from "./fleet/fleet.js";
import { createTokenVerifier } from "./auth/bearer.js";
import { installProblemHandlers, normalize, sendProblem } from "./http/problem.js";
import { createHttpValidatorCompiler } from "./http/validation.js";
import { createMetrics, type Metrics } from "./metrics/metrics.js";
import { PluginPatch, Problem, Readiness, Health } from "./schemas/api.js";
import {
  Ack,
  BotInfo,
  ConversationPage,
  DeadLetterPage,
  MessageLogPage,
  PluginManifest,
  PluginStatus,
  PluginStatusList,
  ProfileUpdate,
  SendText,
  StreamStatusList,
  WorkerList,
} from "./schemas/dto.js";
import { healthRoutes } from "./routes/health.js";
import { botRoutes } from "./routes/admin/bot.js";
import { fleetRoutes } from "./routes/admin/fleet.js";
import { pluginRoutes } from "./routes/admin/plugins.js";
import { conversationRoutes } from "./routes/admin/conversations.js";
import { deadLetterRoutes } from "./routes/admin/dead-letters.js";
import { bearerSecurity, problemResponses, type App } from "./routes/shared.js";

/** What the app needs from the outside world. */
export interface AppDeps {
  config: Pick<Config, "adminTokens" | "corsOrigins" | "rateLimit" | "bodyLimit" | "trustProxy" | "bot">;
  fleet: Fleet;
  logger: Logger;
}

/** Named schemas: registered once, referenced by routes, components of the OpenAPI document. */
const SHARED_SCHEMAS = [
  Problem,
  Health,
  Readiness,
  BotInfo,
  ProfileUpdate,
  WorkerList,
  StreamStatusList,
  PluginStatus,
  PluginStatusList,
  PluginManifest,
  PluginPatch,
  ConversationPage,
  MessageLogPage,
  SendText,
  Ack,
  DeadLetterPage,
];

/** The admin page (plain ES modules, no build step). */
const PUBLIC_DIR = fileURLToPath(new URL("../public/", import.meta.url));

/** Prefix of every route that needs a bearer token. */
export const ADMIN_PREFIX = "/admin";

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: App = Fastify({
    // pino's Logger is wider than FastifyBaseLogger; routes only need the base (typecheck needs the cast).
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.bodyLimit,
    trustProxy: deps.config.trustProxy,
    // Malformed URLs and over-long path parameters are refused by the router itself: as problems too.
    frameworkErrors: (error, request, reply) => {
      void sendProblem(request, reply, normalize(error));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const metrics: Metrics = createMetrics(() => deps.fleet.snapshot(), deps.logger.child({ component: "metrics" }));
  app.addHook("onClose", () => metrics.close());
  app.addHook("onResponse", (request, reply, done) => {
    // The route pattern, not the URL: ids must not explode the label set.
    const route = request.routeOptions.url ?? "unmatched";
    metrics.observeHttp(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  installProblemHandlers(app);
  // JSON only: a text/plain body is refused with 415 instead of reaching the schema as a string.
  app.removeContentTypeParser("text/plain");

  // Every route answers problems the same way; admin routes also declare the bearer scheme.
  app.addHook("onRoute", (route: RouteOptions) => {
    const schema = (route.schema ??= {}) as Record<string, unknown>;
    if (schema.hide === true) return;
    schema.response = { ...problemResponses, ...(schema.response as object | undefined) };
    if (route.url.startsWith(`${ADMIN_PREFIX}/`)) schema.security = bearerSecurity;
  });

  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  app.decorateRequest("adminActor", "");
  app.setValidatorCompiler(createHttpValidatorCompiler(SHARED_SCHEMAS));

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
  });
  if (deps.config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: deps.config.corsOrigins,
      methods: ["GET", "PUT", "PATCH", "POST"],
      allowedHeaders: ["authorization", "content-type"],
      maxAge: 600,
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "session_bot gateway",
        description: "Health, readiness, metrics and the admin API of a session_bot deployment. Errors are RFC 9457 problem documents with a stable `code`.",
        version: "0.1.0",
      },
      components: {
        securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "An admin token from GATEWAY_ADMIN_TOKENS." } },
      },
      tags: [
        { name: "health", description: "Probes and metrics (no token)" },
        { name: "bot", description: "The bot's identity and profile" },
        { name: "fleet", description: "Workers and streams" },
        { name: "plugins", description: "Plugin enable flags and configuration" },
        { name: "conversations", description: "Conversations, messages, blocking" },
        { name: "dead-letters", description: "Failed messages" },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === "string" ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    staticCSP: true,
    // swagger-ui sets a few inline styles; allow those (styles only, never scripts) on /docs.
    transformStaticCSP: (header) => header.replace(/style-src ([^;]*)/, "style-src $1 'unsafe-inline'"),
  });

  app.get("/openapi.json", { schema: { hide: true } }, () => app.swagger());

  healthRoutes(app, { fleet: deps.fleet, metrics });

  await app.register(
    async (admin: App) => {
      // Rate limiting runs before the token check, so guessing tokens is limited too.
      await admin.register(rateLimit, {
        max: deps.config.rateLimit.max,
        timeWindow: deps.config.rateLimit.windowMs,
        errorResponseBuilder: (_request, context) =>
          new GatewayError("RATE_LIMITED", `too many requests; retry in ${context.after}`),
      });
      const verify = createTokenVerifier(deps.config.adminTokens);
      const authenticate: onRequestHookHandler = (request, _reply, done) => {
        try {
          request.adminActor = verify(request.headers.authorization);
          done();
        } catch (err) {
          done(err as Error);
        }
      };
      // Route-level, after the rate limiter's own route-level hook: a context-level hook would run
      // first and refused guesses would never be counted.
      admin.addHook("onRoute", (route: RouteOptions) => {
        const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
        route.onRequest = [...existing, authenticate];
      });
      botRoutes(admin, deps);
      fleetRoutes(admin, deps);
      pluginRoutes(admin, deps);
      conversationRoutes(admin, deps);
      deadLetterRoutes(admin, deps);
    },
    { prefix: ADMIN_PREFIX },
  );

  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: "/ui/", index: "index.html" });
  app.get("/", { schema: { hide: true } }, (_request, reply) => reply.redirect("/ui/"));
  app.get("/ui", { schema: { hide: true } }, (_request, reply) => reply.redirect("/ui/"));

  return app;
}
