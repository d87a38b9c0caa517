/** The console's static files: htmx from its npm package, our stylesheet, script and icon. Open to anyone. */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

const require = createRequire(import.meta.url);

const files: Record<string, { path: string; type: string }> = {
  "htmx.min.js": {
    path: require.resolve("htmx.org/dist/htmx.min.js"),
    type: "text/javascript; charset=utf-8",
  },
  "console.css": {
    path: fileURLToPath(new URL("./assets/console.css", import.meta.url)),
    type: "text/css; charset=utf-8",
  },
  "console.js": {
    path: fileURLToPath(new URL("./assets/console.js", import.meta.url)),
    type: "text/javascript; charset=utf-8",
  },
  "favicon.svg": {
    path: fileURLToPath(new URL("./assets/favicon.svg", import.meta.url)),
    type: "image/svg+xml",
  },
};

export const assetsPrefix = "/console/assets/";

export async function consoleAssets(app: FastifyInstance): Promise<void> {
  const loaded = new Map<string, { body: Buffer; type: string }>();
  for (const [name, file] of Object.entries(files)) {
    loaded.set(name, { body: await readFile(file.path), type: file.type });
  }
  app.get<{ Params: { name: string } }>(`${assetsPrefix}:name`, async (request, reply) => {
    const asset = loaded.get(request.params.name);
    if (!asset) return reply.code(404).type("text/plain").send("no such asset");
    return reply.type(asset.type).header("cache-control", "public, max-age=300").send(asset.body);
  });
}
