/** Batch scoring (`deno task predict`) goes through the service's validation and predictRecords. */
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { ConfigSchema } from "../../src/config/schema.ts";
import { train } from "../../src/training/train.ts";
import { UserError } from "../../src/core/errors.ts";
import { readTable } from "../../src/data/io.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { predictFile } from "../../src/serve/batch.ts";
import { makeRows, toCsv, trainFixture } from "./fixture.ts";

Deno.test("predict file: same predictions as the artifact, input columns kept, bad values exit 2", async () => {
  const root = await Deno.makeTempDir({ prefix: "orchard-serve-batch-" });
  try {
    const dir = await trainFixture(`${root}/m`, { seed: 4, trees: 8 });
    const rows = makeRows(25, 31);
    await Deno.writeTextFile(`${root}/in.csv`, toCsv(rows));
    const where = { store: `${root}/none.db`, modelsDir: `${root}/models` };
    for (const ext of ["csv", "parquet", "ndjson"]) {
      const r = await predictFile({
        modelUri: dir,
        input: `${root}/in.csv`,
        output: `${root}/out.${ext}`,
        ...where,
      });
      equal(r.rows, 25);
      const out = readTable(`${root}/out.${ext}`).toRecords();
      const expected = loadArtifact(dir).predictRecords(rows.map(({ churn: _, ...x }) => x));
      deepStrictEqual(out.map((o) => o.prediction), expected.map((p) => p.prediction));
      for (let i = 0; i < 25; i++) {
        equal(Math.abs((out[i].probability_Yes as number) - expected[i].probabilities!.Yes) < 1e-12, true);
        equal(out[i].churn, rows[i].churn);
      }
      deepStrictEqual(Object.values(r.counts).reduce((a, b) => a + b, 0), 25);
    }
    await Deno.writeTextFile(`${root}/bad.csv`, "tenure,monthly_charges,contract,paperless\nabc,1,a,Yes\n");
    await rejects(
      predictFile({ modelUri: dir, input: `${root}/bad.csv`, output: `${root}/o.csv`, ...where }),
      (e: Error) => e instanceof UserError && /row 1 tenure: expected a number/.test(e.message),
    );
    await Deno.writeTextFile(`${root}/cols.csv`, "tenure\n1\n");
    await rejects(
      predictFile({ modelUri: dir, input: `${root}/cols.csv`, output: `${root}/o.csv`, ...where }),
      (e: Error) =>
        e instanceof UserError &&
        /missing columns the model needs: monthly_charges, contract, paperless/.test(e.message),
    );
    await rejects(
      predictFile({ modelUri: `${root}/nope`, input: `${root}/in.csv`, output: `${root}/o.csv`, ...where }),
      (e: Error) => e instanceof UserError && /no model at/.test(e.message),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("predict file: integer class labels are written as integers, not floats", async () => {
  const root = await Deno.makeTempDir({ prefix: "orchard-serve-batch-" });
  try {
    const dir = await trainFixture(`${root}/m`, { seed: 5, trees: 4, intLabels: true });
    const rows = makeRows(12, 8).map(({ churn: _, ...x }) => x);
    await Deno.writeTextFile(`${root}/in.ndjson`, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const where = { store: `${root}/none.db`, modelsDir: `${root}/models` };
    await predictFile({ modelUri: dir, input: `${root}/in.ndjson`, output: `${root}/out.csv`, ...where });
    const text = await Deno.readTextFile(`${root}/out.csv`);
    const header = text.split("\n")[0].split(",");
    const at = header.indexOf("prediction");
    const labels = text.trim().split("\n").slice(1).map((l) => l.split(",")[at]);
    equal(labels.length, 12);
    for (const l of labels) equal(l === "0" || l === "1", true, `label ${l}`);
    const expected = loadArtifact(dir).predictRecords(rows).map((p) => String(p.prediction));
    deepStrictEqual(labels, expected);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("predict file: a regressor's predictions are Float64 even when whole, with a range and no class counts", async () => {
  const root = await Deno.makeTempDir({ prefix: "orchard-serve-batch-reg-" });
  try {
    await Deno.writeTextFile(`${root}/train.csv`, toCsv(makeRows(200, 3)));
    // one unbootstrapped tree grown to pure leaves predicts training values: whole numbers here
    const { artifact } = await train({
      config: ConfigSchema.parse({
        model: { algorithm: "forest", n_estimators: 1, bootstrap: false, n_jobs: 1, random_state: 1 },
      }),
      data: `${root}/train.csv`,
      target: "tenure",
      store: null,
      artifactsDir: `${root}/artifacts`,
      reportsDir: null,
      verbose: false,
    });
    const rows = makeRows(30, 9).map(({ tenure: _, ...x }) => x);
    await Deno.writeTextFile(`${root}/in.ndjson`, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const r = await predictFile({
      modelUri: artifact,
      input: `${root}/in.ndjson`,
      output: `${root}/out.parquet`,
      store: `${root}/none.db`,
      modelsDir: `${root}/models`,
    });
    const out = readTable(`${root}/out.parquet`);
    const values = out.getColumn("prediction").toArray() as number[];
    ok(values.every((v) => Number.isInteger(v)), "the fixture predicts whole numbers");
    equal(String(out.getColumn("prediction").dtype), "DataType(Float64)");
    deepStrictEqual(r.counts, {});
    deepStrictEqual(r.values, {
      min: Math.min(...values),
      mean: values.reduce((a, b) => a + b, 0) / values.length,
      max: Math.max(...values),
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("predict file: never writes over its input, a folder, or a file no predict wrote (without overwrite); never replaces an input column", async () => {
  const root = await Deno.makeTempDir({ prefix: "orchard-serve-guard-" });
  try {
    const dir = await trainFixture(`${root}/m`, { seed: 4, trees: 4 });
    const rows = makeRows(10, 7);
    const input = `${root}/in.csv`;
    await Deno.writeTextFile(input, toCsv(rows));
    const where = { modelUri: dir, store: `${root}/none.db`, modelsDir: `${root}/models` };
    const before = await Deno.readTextFile(input);
    const refused = (re: RegExp) => (e: Error) => e instanceof UserError && re.test(e.message);
    await rejects(predictFile({ ...where, input, output: input }), refused(/is the input file/));
    await rejects(
      predictFile({ ...where, input, output: `${root}/./in.csv`, overwrite: true }),
      refused(/is the input/),
    );
    equal(await Deno.readTextFile(input), before, "the input is untouched");
    // someone else's table: kept unless asked
    const other = `${root}/raw.csv`;
    await Deno.writeTextFile(other, "id,name\n1,a\n");
    await rejects(
      predictFile({ ...where, input, output: other }),
      refused(/not an earlier prediction output.*--overwrite/),
    );
    equal(await Deno.readTextFile(other), "id,name\n1,a\n");
    await Deno.mkdir(`${root}/folder.csv`);
    await rejects(predictFile({ ...where, input, output: `${root}/folder.csv` }), refused(/is a folder/));
    // an earlier output is replaced on a rerun; overwrite replaces anything
    for (const ext of ["csv", "parquet", "ndjson", "json"]) {
      await predictFile({ ...where, input, output: `${root}/out.${ext}` });
      equal((await predictFile({ ...where, input, output: `${root}/out.${ext}` })).rows, 10);
    }
    equal((await predictFile({ ...where, input, output: other, overwrite: true })).rows, 10);
    ok(readTable(other).columns.includes("prediction"));
    // an input column the scores would replace
    await Deno.writeTextFile(`${root}/scored.csv`, toCsv(rows.map((r) => ({ ...r, prediction: "mine" }))));
    await rejects(
      predictFile({ ...where, input: `${root}/scored.csv`, output: `${root}/new.csv` }),
      refused(/column prediction would be replaced/),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
