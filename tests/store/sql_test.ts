import assert from "node:assert/strict";
import { isPostgresUri, numberPlaceholders, POSTGRES_ENV, splitStatements } from "../../src/store/sql.ts";
import { UserError } from "../../src/core/errors.ts";
import { POSTGRES_URI } from "../_support/backends.ts";

Deno.test("? placeholders become $1.. outside quotes only", () => {
  assert.equal(
    numberPlaceholders("SELECT ? , '?', \"a?\" WHERE x = ? AND y IN (?, ?)"),
    "SELECT $1 , '?', \"a?\" WHERE x = $2 AND y IN ($3, $4)",
  );
  assert.equal(numberPlaceholders("SELECT 1"), "SELECT 1");
});

Deno.test("PostgreSQL URIs are told from paths", () => {
  assert.ok(isPostgresUri("postgresql://u:p@h/db"));
  assert.ok(isPostgresUri("postgres://h/db"));
  assert.ok(!isPostgresUri("models/orchard.db"));
});

Deno.test("a DDL script splits into its statements", () => {
  assert.deepEqual(splitStatements("CREATE TABLE a (x INT);\n\nCREATE INDEX i ON a(x);  "), [
    "CREATE TABLE a (x INT)",
    "CREATE INDEX i ON a(x)",
  ]);
});

Deno.test("every task that opens a store grants the PostgreSQL client's variables", () => {
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)))
    .tasks as Record<
      string,
      string | { command?: string }
    >;
  const storeTasks = [
    "train",
    "tune",
    "runs",
    "register",
    "models",
    "drift",
    "drift:schedule",
    "predict",
    "store:copy",
  ];
  for (const name of storeTasks) {
    const t = tasks[name];
    const command = typeof t === "string" ? t : t.command ?? "";
    const env = command.match(/--allow-env=(\S+)/)?.[1].split(",") ?? [];
    for (const v of [...POSTGRES_ENV, "ORCHARD_TRACKING_URI", "ORCHARD_DEBUG"]) {
      assert.ok(env.includes(v), `task ${name} does not grant ${v}`);
    }
    assert.match(command, /--allow-net\b/, `task ${name} cannot reach a PostgreSQL server`);
  }
});

Deno.test({
  name: "PostgreSQL without a password where the server asks for one: one line saying where to put it",
  ignore: POSTGRES_URI === undefined || Deno.env.get("PGPASSWORD") !== undefined,
  async fn() {
    const { PostgresDatabase } = await import("../../src/store/postgres.ts");
    const uri = new URL(POSTGRES_URI!);
    uri.password = "";
    await assert.rejects(
      () => PostgresDatabase.open(uri.href),
      (e: Error) =>
        e instanceof UserError && /cannot connect to the PostgreSQL store/.test(e.message) &&
        /none was given: put it in the URI \(user:password@host\) or PGPASSWORD\)$/.test(e.message),
    );
  },
});
