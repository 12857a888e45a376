import assert, { deepEqual, equal, throws } from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "../../src/core/errors.ts";
import { runsCommand, runsSummary } from "../../src/tracking/commands.ts";
import { TrackingStore } from "../../src/tracking/store.ts";

function storeWithRuns(): { path: string; ids: string[] } {
  const path = join(Deno.makeTempDirSync(), "orchard.db");
  const store = TrackingStore.open(path);
  const ids = [0.7, 0.9, 0.8].map((auc, i) => {
    const { runId } = store.startRun({ experiment: "churn" });
    store.logParams(runId, { max_depth: 4 + i });
    store.logMetrics(runId, { roc_auc: auc, f1: auc - 0.2 });
    store.endRun(runId, "FINISHED");
    return runId;
  });
  store.close();
  return { path, ids };
}

Deno.test("runs list filters, sorts, limits and picks the columns the query mentions", () => {
  const { path, ids } = storeWithRuns();
  const r = runsCommand(path, [], {
    filter: "params.max_depth >= 5",
    sort: "metrics.roc_auc desc",
    limit: "5",
  });
  assert(r.command === "list");
  deepEqual(r.runs.map((x) => x.runId), [ids[1], ids[2]]);
  equal(r.metricColumns[0], "roc_auc");
  deepEqual(r.paramColumns, ["max_depth"]);
  const top = runsCommand(path, ["list"], { sort: "metrics.roc_auc asc", limit: "1", columns: "metrics.f1" });
  assert(top.command === "list");
  deepEqual(top.runs.map((x) => x.runId), [ids[0]]);
  deepEqual(top.metricColumns, ["f1"]);
  assert(runsSummary(top).endsWith("1 run"));
});

Deno.test("runs compare puts runs side by side, resolving prefixes", () => {
  const { path, ids } = storeWithRuns();
  const r = runsCommand(path, ["compare", ids[0].slice(0, 8), ids[1]], {});
  assert(r.command === "compare");
  deepEqual(r.runs.map((x) => x.runId), [ids[0], ids[1]]);
  assert(r.rows.some((row) => row.differs));
});

Deno.test("runs: a missing store lists nothing (and creates nothing); bad input is a UserError", () => {
  const path = join(Deno.makeTempDirSync(), "none.db");
  const r = runsCommand(path, [], {});
  equal(r.command === "list" && r.count, 0);
  throws(() => Deno.statSync(path), Deno.errors.NotFound);
  equal(runsSummary(r), `runs: no runs match (store ${path})`);
  throws(() => runsCommand(path, ["compare", "a", "b"], {}), UserError);
  throws(() => runsCommand(path, ["bogus"], {}), /unknown subcommand 'bogus'/);
  throws(() => runsCommand(path, [], { limit: "0" }), /--limit must be a positive integer/);
  throws(() => runsCommand(path, [], { filter: "metrics.f1 >> 2" }), UserError);
});
