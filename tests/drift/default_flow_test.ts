/**
 * The real default flow of `deno task drift` with no arguments: a trained,
 * registered @champion supplies the reference (its training data, from the
 * artifact's lineage) and the model for prediction drift; the last day of the
 * prediction log (as the service writes it: numeric 0/1 predictions) is current.
 */
import assert, { equal } from "node:assert/strict";
import { join } from "node:path";
import { ConfigSchema } from "../../src/config/schema.ts";
import { runDrift } from "../../src/drift/run.ts";
import { makeRows, trainFixture } from "../serve/fixture.ts";
import { flipByte } from "../models/_tamper.ts";
import { championProject } from "./_champion.ts";
import { UserError } from "../../src/core/errors.ts";

Deno.test("drift with no arguments: champion's training data vs the last log day, with prediction drift", async () => {
  const root = Deno.makeTempDirSync({ prefix: "drift_default_" });
  try {
    const config = await championProject(root);

    // two days of log; the later one sees much higher monthly charges (all predicted churners)
    for (const [day, shift] of [["2026-03-01", 0], ["2026-03-02", 60]] as const) {
      const dir = join(config.paths.predictions, `date=${day}`);
      Deno.mkdirSync(dir, { recursive: true });
      const lines = makeRows(300, 40 + shift).map(({ churn: _, ...inputs }, i) =>
        JSON.stringify({
          ts: `${day}T10:00:00Z`,
          request_id: `r${i}`,
          model: "churn",
          version: "1",
          inputs: { ...inputs, monthly_charges: inputs.monthly_charges + shift },
          prediction: shift ? 1 : i % 2,
          probabilities: { "0": 0.4, "1": 0.6 },
        })
      );
      Deno.writeTextFileSync(join(dir, "w1-0.ndjson"), lines.join("\n") + "\n");
    }

    const run = await runDrift({ config, now: new Date("2026-03-02T23:00:00Z") });
    equal(run.referenceSource, join(root, "t", "train.csv"));
    equal(run.currentSource, join(config.paths.predictions, "date=2026-03-02"));
    assert(!(run.json.notes ?? []).some((n) => /unavailable|no model/.test(n)), String(run.json.notes));
    const byName = new Map(run.result.columns.map((c) => [c.column, c]));
    // prediction drift: the reference is scored with the champion, the log's 0/1 predictions compared with it
    const pred = byName.get("prediction");
    assert(pred, "prediction column tested");
    equal(pred.role, "prediction");
    equal(pred.drifted, true, JSON.stringify(pred));
    equal(byName.get("monthly_charges")?.drifted, true);
    assert(!byName.has("churn") && !byName.has("request_id") && !byName.has("ts"));
    // the service logs numeric predictions; the scored reference must match their type
    const types = run.json.quality.find((q) => q.check === "column_types")!;
    equal(types.status, "pass", types.detail);
    assert(Deno.statSync(run.reportPath).size > 0);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("drift --model <artifact dir> without a tracking store loads the model and creates no store", async () => {
  const root = Deno.makeTempDirSync({ prefix: "drift_dir_model_" });
  try {
    const artifact = await trainFixture(join(root, "t"), { seed: 6, trees: 4, intLabels: true });
    const config = ConfigSchema.parse({
      paths: { models: root, reports: join(root, "reports"), monitoring: join(root, "monitoring") },
      tracking: { store: join(root, "orchard.db") },
      data: { target: "churn" },
    });
    const current = join(root, "current.ndjson");
    const lines = makeRows(200, 40).map(({ churn: _, ...inputs }) =>
      JSON.stringify({ ...inputs, prediction: 1 })
    );
    Deno.writeTextFileSync(current, lines.join("\n") + "\n");
    const run = await runDrift({ config, model: artifact, current, now: new Date("2026-03-02T23:00:00Z") });
    assert(!(run.json.notes ?? []).some((n) => /unavailable|no model/.test(n)), String(run.json.notes));
    equal(run.referenceSource, join(root, "t", "train.csv")); // from the artifact's lineage
    equal(run.result.columns.find((c) => c.column === "prediction")?.role, "prediction");
    assert.throws(() => Deno.statSync(config.tracking.store), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("drift --model <tampered artifact> is the user's error, not a report without a model", async () => {
  const root = Deno.makeTempDirSync({ prefix: "drift_tampered_model_" });
  try {
    const artifact = await trainFixture(join(root, "t"), { seed: 7, trees: 4, intLabels: true });
    flipByte(join(artifact, "model.bin"));
    const config = ConfigSchema.parse({
      paths: { models: root, reports: join(root, "reports"), monitoring: join(root, "monitoring") },
      tracking: { store: join(root, "orchard.db") },
      data: { target: "churn" },
    });
    const current = join(root, "current.ndjson");
    Deno.writeTextFileSync(
      current,
      makeRows(50, 41).map(({ churn: _, ...r }) => JSON.stringify(r)).join("\n") + "\n",
    );
    await assert.rejects(
      () => runDrift({ config, model: artifact, current, now: new Date("2026-03-02T23:00:00Z") }),
      (e: unknown) => e instanceof UserError && /--model .*model\.bin: checksum mismatch/.test(e.message),
    );
    assert.throws(() => Deno.statSync(join(root, "reports")), Deno.errors.NotFound, "a report was written");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("drift on two tables of the user's own, with a champion of other inputs: the tables are checked on their own, with a note", async () => {
  const root = Deno.makeTempDirSync({ prefix: "drift_own_tables_" });
  try {
    const config = await championProject(root);
    const table = (shift: number) =>
      "alcohol,ash,hue\n" + Array.from({ length: 200 }, (_, i) =>
        `${12 + (i % 7) / 3 + shift},${2 + (i % 5) / 10},${(i % 9) / 9}`).join("\n") +
      "\n";
    Deno.writeTextFileSync(join(root, "ref.csv"), table(0));
    Deno.writeTextFileSync(join(root, "cur.csv"), table(3));
    const run = await runDrift({ config, reference: join(root, "ref.csv"), current: join(root, "cur.csv") });
    assert.deepEqual(run.json.columns.map((c) => c.column).sort(), ["alcohol", "ash", "hue"]);
    assert.ok(run.json.columns.find((c) => c.column === "alcohol")!.drifted);
    assert.ok(
      run.result.notes.some((n) => /hold none of churn's inputs: checked on their own/.test(n)),
      run.result.notes.join("\n"),
    );
    // a model named with --model is still the user's choice, and its inputs decide
    await assert.rejects(
      () =>
        runDrift({
          config,
          reference: join(root, "ref.csv"),
          current: join(root, "cur.csv"),
          model: "models:/churn@champion",
        }),
      (e: Error) => e instanceof UserError && /no shared columns/.test(e.message),
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
