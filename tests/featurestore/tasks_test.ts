/**
 * The feature store's tasks as a user runs them: `deno run` with exactly their
 * deno.json permissions, from the project root (their --allow-read=. covers
 * the sources and polars' native module), on a params file and sources in a
 * temp folder under data/. plan -> apply -> plan (no changes) -> a changed
 * view (a new version) -> materialize; and bad input (a source that lost a
 * column, an unknown feature, an unknown entity, a bad flag) is one line, exit 2.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import pl from "nodejs-polars";
import { denoRunTasks, type Out, repo } from "../permissions/_project.ts";

const ROOT = repo("");
const decoder = new TextDecoder();

async function run(name: string, args: string[]): Promise<Out> {
  const task = denoRunTasks()[name];
  assert.ok(task, `no deno run task ${name}`);
  assert.ok(!task.flags.includes("-A") && !task.flags.includes("--allow-all"), `${name}: least privilege`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...task.flags, repo(task.script), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ORCHARD_DEBUG: "" },
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

function oneLine(r: Out, task: string): string {
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(r.code, 2, r.stderr);
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.ok(!r.stderr.includes("    at "), r.stderr);
  assert.ok(lines[0].startsWith(`${task}: `), lines[0]);
  return lines[0];
}

function project() {
  Deno.mkdirSync(join(ROOT, "data"), { recursive: true });
  const abs = Deno.makeTempDirSync({ dir: join(ROOT, "data"), prefix: ".fs-task-test-" });
  const dir = relative(ROOT, abs);
  pl.DataFrame({
    customer_id: ["C-1", "C-1", "C-2", "C-3"],
    ts: ["2026-01-01T00:00:00Z", "2026-01-20T00:00:00Z", "2026-01-10T00:00:00Z", "2025-06-01T00:00:00Z"],
    spend: [1.5, 2.5, 3, 4],
    n: [1, 2, 3, 4],
    name: ["a", "b", "c", "d"],
  }).writeParquet(join(abs, "tx.parquet"));
  const params = (ttl = "30d", features = "{ spend: float64, n: int64 }", service = '["spend:*"]') =>
    Deno.writeTextFileSync(
      join(abs, "params.yaml"),
      `feature_store:
  directory: ${dir}/fs
  entities:
    customer: { join_key: customer_id }
  feature_views:
    spend:
      entity: customer
      source: { path: ${dir}/tx.parquet }
      timestamp_field: ts
      ttl: ${ttl}
      features: ${features}
  feature_services:
    churn: { features: ${service} }
`,
    );
  params();
  return {
    dir,
    abs,
    params,
    config: ["--config", `${dir}/params.yaml`],
    cleanup: () => Deno.removeSync(abs, { recursive: true }),
  };
}

Deno.test("features:plan, apply, plan again, a changed view, materialize: through the tasks", async () => {
  const p = project();
  try {
    const plan1 = await run("features:plan", p.config);
    assert.equal(plan1.code, 0, plan1.stderr);
    assert.match(plan1.stdout, /3 to add/);
    assert.match(plan1.stdout, /\+ feature view spend \(v1\)/);
    assert.ok(!Deno.statSync(p.abs).isFile);
    assert.throws(() => Deno.statSync(join(p.abs, "fs")), "plan writes nothing");

    const apply = await run("features:apply", [...p.config, "--json"]);
    assert.equal(apply.code, 0, apply.stderr);
    assert.equal(JSON.parse(apply.stdout).pending, 3);
    const again = await run("features:plan", p.config);
    assert.match(again.stdout, /no changes/);

    p.params("7d");
    const changed = await run("features:plan", p.config);
    assert.match(changed.stdout, /~ feature view spend \(v1 -> v2\): ttl: 30d -> 1w/);
    assert.equal((await run("features:apply", p.config)).code, 0);
    const registry = JSON.parse(Deno.readTextFileSync(join(p.abs, "fs/registry.json")));
    assert.deepEqual(registry.feature_views.spend.versions.map((v: { version: number }) => v.version), [
      1,
      2,
    ]);

    const mat = await run("features:materialize", [
      ...p.config,
      "--start",
      "2026-01-01",
      "--end",
      "2026-01-25",
    ]);
    assert.equal(mat.code, 0, mat.stderr);
    assert.match(mat.stdout, /spend v2: 1 entities, 1 written/, "7d TTL at Jan 25: only C-1's Jan 20 row");
    const inc = await run("features:materialize", [...p.config, "--incremental", "--end", "2026-01-25"]);
    assert.match(inc.stdout, /up to date/);
  } finally {
    p.cleanup();
  }
});

Deno.test("bad input through the tasks: one line, exit 2", async () => {
  const p = project();
  try {
    p.params("30d", "{ spend: float64, n: int64, visits: int64 }");
    assert.match(
      oneLine(await run("features:plan", p.config), "features:plan"),
      /feature view spend: source .*tx\.parquet has no column 'visits' \(feature visits\)/,
    );
    p.params("30d", "{ spend: float64, n: int64 }", '["spend:nope"]');
    assert.match(
      oneLine(await run("features:apply", p.config), "features:apply"),
      /feature service churn: unknown feature 'nope' in feature view spend/,
    );
    p.params();
    Deno.writeTextFileSync(
      join(p.abs, "params.yaml"),
      Deno.readTextFileSync(join(p.abs, "params.yaml")).replace("entity: customer", "entity: shopper"),
    );
    assert.match(
      oneLine(await run("features:plan", p.config), "features:plan"),
      /feature view spend: unknown entity 'shopper'/,
    );
    p.params();
    assert.match(
      oneLine(
        await run("features:materialize", [...p.config, "--start", "2026-01-01"]),
        "features:materialize",
      ),
      /feature view spend is not registered \(run deno task features:apply\)/,
    );
    assert.match(
      oneLine(await run("features:materialize", p.config), "features:materialize"),
      /give --start/,
    );
    assert.match(
      oneLine(
        await run("features:materialize", [...p.config, "--start", "yesterday"]),
        "features:materialize",
      ),
      /--start: 'yesterday' is not a time/,
    );
    assert.match(
      oneLine(
        await run("features:materialize", [...p.config, "--start", "9000000000000000"]),
        "features:materialize",
      ),
      /--start: '9000000000000000' is outside the dates a calendar holds/,
    );
    // a refused window creates no online store
    assert.match(
      oneLine(
        await run("features:materialize", [...p.config, "--start", "2024-12-01", "--end", "2024-01-01"]),
        "features:materialize",
      ),
      /--start 2024-12-01T00:00:00.000Z is after --end 2024-01-01T00:00:00.000Z/,
    );
    assert.ok(!existsSync(join(p.abs, "fs")), "nothing was created under feature_store.directory");
    // a declared dtype the source column cannot be read as
    p.params("30d", "{ spend: float64, n: int64, name: int64 }");
    assert.match(
      oneLine(await run("features:plan", p.config), "features:plan"),
      /feature view spend: feature name is declared int64 but source column 'name' holds text \(str\)/,
    );
  } finally {
    p.cleanup();
  }
});
