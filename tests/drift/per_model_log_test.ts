/**
 * The prediction log names its model (issue 14, part 5): the service writes
 * one folder per model, and default drift reads the champion's folder only,
 * so another model served the same day adds no "extra columns". A log in the
 * older layout (every model under date=<day>/) is still read, filtered to the
 * checked model.
 */
import assert, { equal } from "node:assert/strict";
import { join } from "node:path";
import { runDrift } from "../../src/drift/run.ts";
import { PredictionLog } from "../../src/serve/predlog.ts";
import { makeRows } from "../serve/fixture.ts";
import { championProject } from "./_champion.ts";

const DAY = "2026-03-02";
const TS = Date.parse(`${DAY}T10:00:00Z`);

/** The champion's records and another model's, with 80 columns of its own, on the same day. */
function entries() {
  const churn = makeRows(300, 41).map(({ churn: _, ...inputs }, i) => ({
    ts: TS,
    requestId: `c${i}`,
    model: "churn",
    version: "1",
    inputs,
    prediction: i % 2,
    probabilities: { "0": 0.5, "1": 0.5 },
  }));
  const other = Array.from({ length: 200 }, (_, i) => ({
    ts: TS,
    requestId: `o${i}`,
    model: "telecom",
    version: "7",
    inputs: Object.fromEntries(Array.from({ length: 80 }, (_, k) => [`t${k}`, (i * k) % 13])),
    prediction: "yes",
  }));
  return { churn, other };
}

function extraColumns(run: Awaited<ReturnType<typeof runDrift>>) {
  return run.json.quality.find((q) => q.check === "extra_columns")!;
}

Deno.test("drift by default reads the champion's own folder of the prediction log, not another model's", async () => {
  const root = Deno.makeTempDirSync({ prefix: "drift_per_model_" });
  try {
    const config = await championProject(root);
    const log = new PredictionLog({
      dir: config.paths.predictions,
      worker: "w1",
      flushMs: 60_000,
      batchSize: 1e6,
    });
    const { churn, other } = entries();
    for (let i = 0; i < 300; i++) {
      log.push(churn[i]);
      if (i < 200) log.push(other[i]);
    }
    await log.close();
    equal(
      [...Deno.readDirSync(config.paths.predictions)].map((e) => e.name).sort().join(),
      "model=churn,model=telecom",
    );
    const run = await runDrift({ config, now: new Date(`${DAY}T23:00:00Z`) });
    equal(run.currentSource, join(config.paths.predictions, "model=churn", `date=${DAY}`));
    equal(extraColumns(run).status, "pass", extraColumns(run).detail);
    assert(run.result.columns.some((c) => c.column === "tenure"));
    assert(!run.result.columns.some((c) => c.column.startsWith("t1")));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("drift still reads a log in the older layout (date=<day>/ at the top), filtered to its model", async () => {
  const root = Deno.makeTempDirSync({ prefix: "drift_legacy_log_" });
  try {
    const config = await championProject(root);
    const dir = join(config.paths.predictions, `date=${DAY}`);
    Deno.mkdirSync(dir, { recursive: true });
    const { churn, other } = entries();
    const line = (e: (typeof churn)[number] | (typeof other)[number]) =>
      JSON.stringify({
        ts: new Date(e.ts).toISOString(),
        request_id: e.requestId,
        model: e.model,
        version: e.version,
        inputs: e.inputs,
        prediction: e.prediction,
        probabilities: "probabilities" in e ? e.probabilities : null,
      });
    const mixed = [...churn.map(line), ...other.map(line)];
    Deno.writeTextFileSync(join(dir, "w1-0.ndjson"), mixed.join("\n") + "\n");
    const run = await runDrift({ config, now: new Date(`${DAY}T23:00:00Z`) });
    equal(run.currentSource, dir);
    equal(extraColumns(run).status, "pass", extraColumns(run).detail);
    assert(!run.result.columns.some((c) => c.column.startsWith("t1")), "no other model's column");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("drift --model <a registered version's folder> reads that model's log folder, and names its report by the model", async () => {
  const root = Deno.makeTempDirSync({ prefix: "drift_version_dir_" });
  try {
    const config = await championProject(root);
    const log = new PredictionLog({
      dir: config.paths.predictions,
      worker: "w1",
      flushMs: 60_000,
      batchSize: 1e6,
    });
    const { churn, other } = entries();
    for (const e of [...churn, ...other]) log.push(e);
    await log.close();
    // the service logs a path inside the registry under the registered name, not the folder's ("1")
    const version = join(config.paths.models, config.registry.model_name, "1");
    const run = await runDrift({ config, model: version, now: new Date(`${DAY}T23:00:00Z`) });
    equal(run.currentSource, join(config.paths.predictions, "model=churn", `date=${DAY}`));
    assert(/drift_churn_\d{8}T\d{6}Z\.html$/.test(run.reportPath), run.reportPath);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
