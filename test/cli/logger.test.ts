/** The process log drops fields that hold secrets, wherever in a logged object they are. */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import type pino from "pino";
import { createLogger } from "../../src/cli/logger.js";

test("secret fields are dropped from logged objects, up to three objects down", () => {
  let out = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      out += chunk;
      done();
    },
  });
  const log = createLogger("trace", sink as unknown as pino.DestinationStream);
  log.trace(
    {
      body: {
        connection: { host: "db", password: "secret-1" },
        ssh_tunnel: { private_key: "secret-2", passphrase: "secret-3" },
        source: { credentials: { api_key: "secret-4" } },
      },
      form: { "connection.password": "secret-5" },
      req: { headers: { authorization: "Bearer secret-6", cookie: "sequin_session=secret-7" } },
    },
    "request",
  );
  const line = JSON.parse(out);
  assert.deepEqual(line.body, { connection: { host: "db" }, ssh_tunnel: {}, source: {} });
  assert.deepEqual(line.form, {});
  assert.deepEqual(line.req, { headers: {} });
  assert.doesNotMatch(out, /secret-/);
});
