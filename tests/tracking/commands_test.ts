import assert, { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "../../src/core/errors.ts";
import { runsCommand, runsSummary } from "../../src/tracking/commands.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { backendTest } from "../_support/backends.ts";

async function storeWithRuns(location: string): Promise<string[]> {
  await using store = await TrackingStore.open(location);
  const ids: string[] = [];
  for (const [i, auc] of [0.7, 0.9, 0.8].entries()) {
    const { runId } = await store.startRun({ experiment: "churn" });
    await store.logParams(runId, { max_depth: 4 + i });
    await store.logMetrics(runId, { roc_auc: auc, f1: auc - 0.2 });
    await store.endRun(runId, "FINISHED");
    ids.push(runId);
  }
  return ids;
}

backendTest("runs list filters, sorts, limits and picks the columns the query mentions", async (b) => {
  const ids = await storeWithRuns(b.location);
  const r = await runsCommand(b.location, [], {
    filter: "params.max_depth >= 5",
    sort: "metrics.roc_auc desc",
    limit: "5",
  });
  assert(r.command === "list");
  deepEqual(r.runs.map((x) => x.runId), [ids[1], ids[2]]);
  equal(r.metricColumns[0], "roc_auc");
  deepEqual(r.paramColumns, ["max_depth"]);
  const top = await runsCommand(b.location, ["list"], {
    sort: "metrics.roc_auc asc",
    limit: "1",
    columns: "metrics.f1",
  });
  assert(top.command === "list");
  deepEqual(top.runs.map((x) => x.runId), [ids[0]]);
  deepEqual(top.metricColumns, ["f1"]);
  assert(runsSummary(top).endsWith("1 run"));
  if (b.kind === "postgres") assert(!r.store.includes(":orchard@"), `the password is hidden: ${r.store}`);
});

backendTest("runs compare puts runs side by side, resolving prefixes", async (b) => {
  const ids = await storeWithRuns(b.location);
  const r = await runsCommand(b.location, ["compare", ids[0].slice(0, 8), ids[1]], {});
  assert(r.command === "compare");
  deepEqual(r.runs.map((x) => x.runId), [ids[0], ids[1]]);
  assert(r.rows.some((row) => row.differs));
});

Deno.test("runs: a missing store lists nothing (and creates nothing); bad input is a UserError", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = join(dir, "none.db");
    const r = await runsCommand(path, [], {});
    equal(r.command === "list" && r.count, 0);
    throws(() => Deno.statSync(path), Deno.errors.NotFound);
    equal(runsSummary(r), `runs: no tracking store at ${path} yet (deno task train creates it)`);
    await rejects(() => runsCommand(path, ["compare", "a", "b"], {}), UserError);
    await rejects(() => runsCommand(path, ["bogus"], {}), /unknown subcommand 'bogus'/);
    await rejects(() => runsCommand(path, [], { limit: "0" }), /--limit must be a positive integer/);
    await rejects(() => runsCommand(path, [], { filter: "metrics.f1 >> 2" }), UserError);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("runs: a store the task may not read is a permission error naming it, not 'no runs'", async () => {
  const repo = new URL("../../", import.meta.url).pathname;
  const script = `
    import { runsCommand } from "${repo}src/tracking/commands.ts";
    try { await runsCommand("/etc/orchard-none.db", [], {}); console.log("listed"); }
    catch (e) { console.log(e.name + ": " + e.message); }`;
  // read access to the project only, as `deno task runs` has (--allow-read=.)
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-check", `--allow-read=${repo}`, "--allow-env", "--allow-ffi", "--allow-sys", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const r = await child.output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  equal(
    text(r.stdout),
    "PermissionError: no permission to read /etc/orchard-none.db (the tracking store)",
    text(r.stderr),
  );
});
