import assert from "node:assert/strict";
import { test } from "node:test";
import { SequinError } from "../../src/errors.js";
import {
  classifyTargetError,
  connectTarget,
  createTableSql,
  type TargetErrorKind,
} from "../../src/targets/postgres/index.js";
import { connect, createSeedUser, createTargetDatabase, uniqueName } from "./target-helpers.js";

function dbError(code: string, message = `error ${code}`) {
  return Object.assign(new Error(message), { severity: "ERROR", code });
}

function sysError(code: string, message = `connect ${code} 10.0.0.1:5432`) {
  return Object.assign(new Error(message), { code, errno: -1, syscall: "connect" });
}

test("the table decides the kind by SQLSTATE, class, errno and message", () => {
  const cases: [unknown, TargetErrorKind][] = [
    ...[
      "ECONNREFUSED",
      "ECONNRESET",
      "ETIMEDOUT",
      "EHOSTUNREACH",
      "ENETUNREACH",
      "ENOTFOUND",
      "EAI_AGAIN",
      "EPIPE",
    ].map((code): [unknown, TargetErrorKind] => [sysError(code), "unreachable"]),
    [new Error("Connection terminated unexpectedly"), "unreachable"],
    [new Error("Connection terminated"), "unreachable"],
    [new Error("timeout expired"), "unreachable"],
    [new SequinError("target_unreachable", "timeout after 5000 ms"), "unreachable"],
    [new Error("The server does not support SSL connections"), "unreachable"],
    [sysError("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"), "unreachable"],
    ...["08000", "08006", "08001", "57P01", "57P02", "57P03", "28000", "28P01", "3D000"].map(
      (code): [unknown, TargetErrorKind] => [dbError(code), "unreachable"],
    ),
    ...["40001", "40P01", "55P03", "53000", "53100", "53200", "53300", "57014"].map(
      (code): [unknown, TargetErrorKind] => [dbError(code), "transient"],
    ),
    ...[
      "23505",
      "23503",
      "23502",
      "23514",
      "23P01",
      "42P01",
      "42501",
      "42703",
      "P0001",
      "22P02",
      "22001",
      "XX000",
    ].map((code): [unknown, TargetErrorKind] => [dbError(code), "refused"]),
    [new TypeError("something unexpected"), "refused"],
    ["a string", "refused"],
  ];
  for (const [error, kind] of cases) {
    const code = (error as { code?: string }).code ?? (error as Error).message ?? error;
    assert.equal(classifyTargetError(error).kind, kind, String(code));
  }
});

test("classification reports SQLSTATE, a plain cause and the detail apart", () => {
  const duplicate = Object.assign(dbError("23505", 'duplicate key value violates unique constraint "u"'), {
    detail: "Key (upstream_id)=(x) already exists.",
  });
  assert.deepEqual(classifyTargetError(duplicate), {
    kind: "refused",
    sqlstate: "23505",
    message: 'duplicate key value violates unique constraint "u"',
    detail: "Key (upstream_id)=(x) already exists.",
  });
  assert.deepEqual(classifyTargetError(dbError("28P01", 'password authentication failed for user "x"')), {
    kind: "unreachable",
    sqlstate: "28P01",
    message: 'authentication failed: password authentication failed for user "x"',
  });
  assert.deepEqual(classifyTargetError(dbError("40P01", "deadlock detected")), {
    kind: "transient",
    sqlstate: "40P01",
    message: "deadlock: deadlock detected",
  });
  // EPIPE looks like a SQLSTATE but is an errno: only errors with a severity carry one.
  assert.deepEqual(classifyTargetError(sysError("EPIPE", "write EPIPE")), {
    kind: "unreachable",
    message: "connection lost: write EPIPE",
  });
});

test("classification reads Node's AggregateError and cause chains", () => {
  const both = Object.assign(
    new AggregateError(
      [
        sysError("ECONNREFUSED", "connect ECONNREFUSED ::1:1"),
        sysError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1"),
      ],
      "",
    ),
    { code: "ECONNREFUSED" },
  );
  assert.deepEqual(classifyTargetError(both), {
    kind: "unreachable",
    message: "connection refused: connect ECONNREFUSED ::1:1; connect ECONNREFUSED 127.0.0.1:1",
  });
  const wrapped = new Error("applying batch", {
    cause: dbError("42P01", 'relation "crm.records" does not exist'),
  });
  assert.deepEqual(classifyTargetError(wrapped), {
    kind: "refused",
    sqlstate: "42P01",
    message: 'relation "crm.records" does not exist',
  });
  assert.deepEqual(classifyTargetError(new Error("no idea")), { kind: "refused", message: "no idea" });
});

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected an error");
}

test("errors from real Postgres are classified", async () => {
  const db = await createTargetDatabase();
  const { admin, conn } = db;
  const expect = async (promise: Promise<unknown>, kind: TargetErrorKind, sqlstate?: string) => {
    const result = classifyTargetError(await caught(promise));
    assert.equal(result.kind, kind, result.message);
    assert.equal(result.sqlstate, sqlstate, result.message);
    return result;
  };

  await expect(admin.query("select * from crm.nope"), "refused", "42P01");
  await admin.query(createTableSql({ schema: "public", name: "records" }));
  const row =
    "('8f0f7d4e-3c1a-4d1b-9a51-6a5d9e3f0a01', gen_random_uuid(), 'c', 'u', '{}', now(), now(), now())";
  await admin.query(`insert into public.records values ${row}`);
  await expect(admin.query(`insert into public.records values ${row}`), "refused", "23505");
  await expect(admin.query("select nope from public.records"), "refused", "42703");

  const user = await createSeedUser(db, "sequin");
  const client = await connect(user);
  await expect(client.query("select * from public.records"), "refused", "42501");

  const refused = await expect(connectTarget({ ...conn, host: "127.0.0.1", port: 1 }), "unreachable");
  assert.equal(refused.message, "connection refused: connect ECONNREFUSED 127.0.0.1:1");
  const auth = await expect(connectTarget({ ...user, password: "wrong" }), "unreachable", "28P01");
  assert.equal(
    auth.message,
    `authentication failed: password authentication failed for user "${user.username}"`,
  );
  const missing = uniqueName("nope");
  const database = await expect(connectTarget({ ...conn, database: missing }), "unreachable", "3D000");
  assert.equal(database.message, `database "${missing}" does not exist`);
});
