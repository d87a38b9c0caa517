/**
 * The OpenAPI 3.1 document of every route, generated from the routes' zod schemas and served at
 * `GET /openapi.json` (open, like /health).
 */
import { readFileSync } from "node:fs";
import fastifySwagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";

function packageVersion(): string {
  const file = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

export const bearerSecurity = [{ bearerAuth: [] }];

/** Registers the document generator; call before any route is added so that every route is seen. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Sequin Management API",
        version: packageVersion(),
        description:
          "Record streams in, Postgres consumers out. Every /v1 route needs `Authorization: Bearer <token>`. " +
          "Errors answer `{code, summary, validation_errors?}`.",
      },
      components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } } },
      security: bearerSecurity,
      tags: [
        { name: "service", description: "health and this document" },
        { name: "syncs", description: "syncs and their record streams" },
        { name: "targets", description: "Postgres targets: the databases consumers write to" },
        {
          name: "consumers",
          description: "Postgres consumers: a filter of the stream mirrored into one table",
        },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
}

export function openApiRoute(app: FastifyInstance): void {
  app.get(
    "/openapi.json",
    {
      schema: {
        tags: ["service"],
        summary: "This OpenAPI document",
        security: [],
      },
    },
    async () => app.swagger(),
  );
}
