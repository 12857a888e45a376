import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { UserError } from "../../src/core/errors.ts";
import { fit, Model, tableColumns } from "../../src/models/model.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { rocAuc } from "../../src/models/metrics.ts";
import { Rng } from "../../src/core/random.ts";
import { churnRows } from "./_data.ts";

const SMALL = { n_estimators: 20, n_jobs: 1, random_state: 7 };

Deno.test("fit on records: a binary classifier that predicts labels and probabilities", async () => {
  const rows = churnRows(400);
  const model = await fit(rows.slice(0, 300), { target: "churned", ...SMALL });
  assert.equal(model.task, "classification");
  assert.deepEqual(model.classes, ["no", "yes"]);
  const test = rows.slice(300);
  const labels = model.predict(test);
  assert.equal(labels.length, 100);
  assert.ok(labels.every((l) => l === "yes" || l === "no"));
  const proba = model.predictProba(test);
  for (const p of proba) {
    assert.equal(p.length, 2);
    assert.ok(Math.abs(p[0] + p[1] - 1) < 1e-9, "each row sums to 1");
  }
  // the target column is never an input
  assert.ok(!model.preprocessor.columns.some((c) => c.name === "churned"));
});

Deno.test("evaluate: the metrics module's numbers on the same rows", async () => {
  const rows = churnRows(500, 3);
  const model = await fit(rows.slice(0, 350), { target: "churned", ...SMALL });
  const test = rows.slice(350);
  const ev = model.evaluate(test);
  const pos = model.classes!.indexOf(model.positiveClass!);
  const truth = test.map((r) => (r.churned === model.positiveClass ? 1 : 0));
  const score = model.predictProba(test).map((p) => p[pos]);
  assert.equal(ev.metrics.roc_auc, rocAuc(truth, score));
  const acc = model.predict(test).filter((l, i) => l === test[i].churned).length / test.length;
  assert.ok(Math.abs(ev.metrics.accuracy - acc) < 1e-12);
  assert.ok(ev.metrics.roc_auc > 0.8, `roc_auc ${ev.metrics.roc_auc}`);
});

Deno.test("fit on a DataFrame and on columns: multiclass and regression", async () => {
  const rng = new Rng(5);
  const n = 300;
  const x = Array.from({ length: n }, () => rng.uniform(0, 3));
  const z = Array.from({ length: n }, () => rng.uniform(-1, 1));
  const cls = x.map((v) => (v < 1 ? "a" : v < 2 ? "b" : "c"));
  const df = pl.DataFrame({ x, z, cls });
  const multi = await fit(df, { target: "cls", ...SMALL });
  assert.deepEqual(multi.classes, ["a", "b", "c"]);
  assert.ok(
    multi.predictProba(df).every((p) => p.length === 3 && Math.abs(p.reduce((a, b) => a + b) - 1) < 1e-9),
  );
  assert.ok(multi.evaluate(df).metrics.accuracy > 0.9);

  const y = x.map((v, i) => 2 * v + z[i]);
  const reg = await fit({ x, z, y }, { target: "y", ...SMALL });
  assert.equal(reg.task, "regression");
  const pred = reg.predict({ x, z }) as number[];
  assert.ok(pred.every((p) => typeof p === "number"));
  assert.ok(reg.evaluate({ x, z, y }).metrics.r2 > 0.8);
  assert.throws(() => reg.predictProba({ x, z }), UserError);
});

Deno.test("save and load: the reloaded model predicts bit-identically, and the artifact loads as the stage's", async () => {
  const rows = churnRows(300, 9);
  const model = await fit(rows, { target: "churned", ...SMALL });
  model.evaluate(rows);
  const dir = await Deno.makeTempDir();
  try {
    const path = model.save(`${dir}/m`);
    const again = Model.load(path);
    assert.deepEqual(again.predictProba(rows), model.predictProba(rows));
    assert.deepEqual(again.predict(rows), model.predict(rows));
    assert.equal(again.target, "churned");
    assert.deepEqual(again.metrics, model.metrics);
    // the same artifact the service loads
    const served = loadArtifact(path).predictRecords(rows.slice(0, 5));
    assert.deepEqual(served.map((p) => p.prediction), model.predict(rows.slice(0, 5)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad input: a UserError naming the target, the param or the class", async () => {
  const rows = churnRows(60);
  await assert.rejects(
    () => fit(rows, { target: "nope" }),
    (e: Error) => e instanceof UserError && /nope/.test(e.message),
  );
  await assert.rejects(
    () => fit(rows, { target: "churned", n_estimators: -3 }),
    (e: Error) => e instanceof UserError && /n_estimators/.test(e.message),
  );
  await assert.rejects(
    () => fit(rows, { target: "churned", bogus: 1 } as never),
    (e: Error) => e instanceof UserError && /bogus/.test(e.message),
  );
  const model = await fit(rows, { target: "churned", ...SMALL });
  assert.throws(
    () => model.evaluate([{ ...rows[0], churned: "maybe" }]),
    (e: Error) => e instanceof UserError && /maybe/.test(e.message),
  );
  assert.throws(
    () => model.evaluate([{ tenure: 1 }]),
    (e: Error) => e instanceof UserError && /churned/.test(e.message),
  );
});

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

Deno.test("explain (forest, binary): bias + contributions = the positive class's probability, per input column", async () => {
  const rows = churnRows(300, 4);
  const test = rows.slice(0, 40);
  for (const encoding of ["ordinal", "onehot"] as const) {
    const model = await fit(rows, { target: "churned", encoding, ...SMALL });
    const pos = model.classes!.indexOf(model.positiveClass!);
    const proba = model.predictProba(test);
    const e = model.explain(test);
    // one contribution per source column, however many encoded features it became
    assert.deepEqual(e.columns, model.preprocessor.columns.map((c) => c.name));
    if (encoding === "onehot") assert.ok(model.preprocessor.width > e.columns.length);
    assert.deepEqual(e.classes, test.map(() => model.positiveClass));
    for (let i = 0; i < test.length; i++) {
      assert.equal(e.contributions[i].length, e.columns.length);
      const sum = e.contributions[i].reduce((a, b) => a + b, e.bias[i]);
      assert.ok(close(sum, proba[i][pos]), `${encoding} row ${i}: ${sum} vs ${proba[i][pos]}`);
      assert.ok(close(e.values[i], proba[i][pos]));
    }
    // tenure drives churn in the generated data: it carries the largest attributions
    const mag = e.columns.map((_, j) => e.contributions.reduce((a, r) => a + Math.abs(r[j]), 0));
    assert.equal(e.columns[mag.indexOf(Math.max(...mag))], "tenure");
  }
});

Deno.test("explain (forest): multiclass explains each row's predicted class or a chosen one; regression the value", async () => {
  const rng = new Rng(11);
  const n = 240;
  const x = Array.from({ length: n }, () => rng.uniform(0, 3));
  const z = Array.from({ length: n }, () => rng.uniform(-1, 1));
  const cls = x.map((v) => (v < 1 ? "a" : v < 2 ? "b" : "c"));
  const multi = await fit({ x, z, cls }, { target: "cls", ...SMALL });
  const proba = multi.predictProba({ x, z });
  const predicted = multi.predict({ x, z });
  const e = multi.explain({ x, z });
  assert.deepEqual(e.classes, predicted);
  for (let i = 0; i < n; i++) {
    const k = multi.classes!.indexOf(predicted[i]);
    assert.ok(close(e.contributions[i].reduce((a, b) => a + b, e.bias[i]), proba[i][k]), `row ${i}`);
  }
  const c = multi.explain({ x, z }, { class: "c" });
  for (let i = 0; i < n; i++) assert.ok(close(c.values[i], proba[i][2]));
  assert.throws(
    () => multi.explain({ x, z }, { class: "d" }),
    (err: Error) => err instanceof UserError && /"d"/.test(err.message),
  );

  const y = x.map((v, i) => 2 * v + z[i]);
  const reg = await fit({ x, z, y }, { target: "y", ...SMALL });
  const pred = reg.predict({ x, z }) as number[];
  const r = reg.explain({ x, z });
  assert.equal(r.classes, undefined);
  for (let i = 0; i < n; i++) {
    assert.ok(close(r.contributions[i].reduce((a, b) => a + b, r.bias[i]), pred[i]));
  }
  // bias is the (bootstrap-weighted) training mean: close to the mean of y
  const mean = y.reduce((a, b) => a + b, 0) / n;
  assert.ok(Math.abs(r.bias[0] - mean) < 0.3, `bias ${r.bias[0]} mean ${mean}`);
});

Deno.test("explain after save and load gives the same attributions", async () => {
  const rows = churnRows(200, 6);
  const model = await fit(rows, { target: "churned", ...SMALL });
  const dir = await Deno.makeTempDir();
  try {
    const again = Model.load(model.save(`${dir}/m`));
    assert.deepEqual(again.explain(rows.slice(0, 20)), model.explain(rows.slice(0, 20)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("explain: engines without attributions are a UserError naming the engine", async () => {
  for (const algorithm of ["logistic", "ml-random-forest"] as const) {
    const model = await fit(churnRows(120), { target: "churned", ...SMALL, algorithm });
    assert.throws(
      () => model.explain(churnRows(3)),
      (e: Error) => e instanceof UserError && e.message.includes(`the ${algorithm} engine`),
      algorithm,
    );
  }
});

Deno.test("tableColumns: records, DataFrames and columns give the same columns", () => {
  const records = [{ a: 1, b: "x" }, { a: 2, b: "y" }];
  assert.deepEqual(tableColumns(records), { a: [1, 2], b: ["x", "y"] });
  assert.deepEqual(tableColumns(pl.DataFrame(records)), { a: [1, 2], b: ["x", "y"] });
  assert.deepEqual(tableColumns({ a: [1, 2] }), { a: [1, 2] });
});
