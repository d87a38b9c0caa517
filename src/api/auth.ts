/**
 * Bearer authentication for every `/v1` path (unknown ones too, so that routes cannot be probed without a
 * token). `/health`, `/metrics` and `/openapi.json` stay open. The web console (`/`, `/login`,
 * `/console/*`) has its own sign-in and session cookie (src/console); a session never opens `/v1`.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { SequinError } from "../errors.js";
import type { ApiTokens } from "./api-tokens.js";

export function needsToken(url: string): boolean {
  const path = url.split("?")[0] ?? url;
  return path === "/v1" || path.startsWith("/v1/");
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== "string") return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

export function installAuth(app: FastifyInstance, tokens: ApiTokens): void {
  app.addHook("onRequest", async (request) => {
    if (!needsToken(request.url)) return;
    const token = bearerToken(request);
    if (token === undefined) {
      throw new SequinError(
        "unauthorized",
        "missing API token: send the header Authorization: Bearer <token> (SEQUIN_API_TOKEN or the token printed at first start)",
      );
    }
    if (!(await tokens.verify(token))) {
      throw new SequinError(
        "unauthorized",
        "invalid API token: check SEQUIN_API_TOKEN or the token you were given",
      );
    }
  });
}
