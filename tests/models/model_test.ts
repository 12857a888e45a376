import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { UserError } from "../../src/core/errors.ts";
import { fit, Model, tableColumns } from "../../src/models/model.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { rocAuc } from "../../src/models/metrics.ts";
import { Rng } from "../../src/core/random.ts";
import { churnRows } from "./_data.ts";

const SMALL = { algorithm: "forest" as const, n_estimators: 20, n_jobs: 1, random_state: 7 };

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

const close = (a: number, b: number, eps = 1e-9) => Math.abs(a - b) < eps;
const logit = (p: number) => Math.log(p / (1 - p));
const rowSum = (e: { bias: number[]; contributions: number[][] }, i: number) =>
  e.contributions[i].reduce((a, b) => a + b, e.bias[i]);

Deno.test("explain (forest, binary): SHAP values per source column sum to the positive class's probability", async () => {
  const rows = churnRows(300, 4);
  const test = rows.slice(0, 40);
  for (const encoding of ["ordinal", "onehot"] as const) {
    const model = await fit(rows, { target: "churned", encoding, ...SMALL });
    const pos = model.classes!.indexOf(model.positiveClass!);
    const proba = model.predictProba(test);
    const e = model.explain(test);
    assert.equal(e.scale, "probability");
    assert.ok(model.explainable);
    // one contribution per source column, however many encoded features it became
    assert.deepEqual(e.columns, model.preprocessor.columns.map((c) => c.name));
    assert.deepEqual(e.columns, ["tenure", "plan", "autopay", "spend", "signup"]);
    if (encoding === "onehot") assert.ok(model.preprocessor.width > e.columns.length);
    assert.deepEqual(e.classes, test.map(() => model.positiveClass));
    for (let i = 0; i < test.length; i++) {
      assert.equal(e.contributions[i].length, e.columns.length);
      assert.ok(
        close(rowSum(e, i), proba[i][pos]),
        `${encoding} row ${i}: ${rowSum(e, i)} vs ${proba[i][pos]}`,
      );
      assert.ok(close(e.values[i], proba[i][pos]));
    }
    // the base value is the forest's expected probability: one value, near the positive share
    assert.ok(e.bias.every((b) => b === e.bias[0]));
    const share = rows.filter((r) => r.churned === model.positiveClass).length / rows.length;
    assert.ok(Math.abs(e.bias[0] - share) < 0.1, `bias ${e.bias[0]} vs share ${share}`);
    // tenure drives churn in the generated data: it carries the largest attributions
    const imp = model.shapImportance(test);
    assert.equal(imp[0].name, "tenure");
  }
});

Deno.test("explain: one-hot levels, date parts and missing indicators sum back to their source column", async () => {
  const rows = churnRows(300, 8);
  const model = await fit(rows, { target: "churned", encoding: "onehot", ...SMALL });
  const names = model.preprocessor.featureNames;
  // plan is one-hot (levels + missing), signup has date parts, spend has a missing indicator
  assert.ok(names.filter((f) => f.startsWith("plan")).length >= 3, names.join(","));
  assert.ok(names.filter((f) => f.startsWith("signup")).length >= 2, names.join(","));
  assert.ok(names.filter((f) => f.startsWith("spend")).length === 2, names.join(","));
  const test = rows.slice(0, 30);
  const X = model.transform(test);
  const pos = model.classes!.indexOf(model.positiveClass!);
  const raw = model.estimator.explain!(X, new Int32Array(X.rows).fill(pos));
  const e = model.explain(test);
  for (let i = 0; i < test.length; i++) {
    e.columns.forEach((col, j) => {
      let s = 0;
      names.forEach((f, k) => {
        if (f === col || f.startsWith(`${col}=`) || f.startsWith(`${col}.`)) {
          s += raw.contributions[i * X.cols + k];
        }
      });
      assert.ok(close(e.contributions[i][j], s), `row ${i} ${col}: ${e.contributions[i][j]} vs ${s}`);
    });
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
  assert.equal(e.scale, "probability");
  assert.deepEqual(e.classes, predicted);
  for (let i = 0; i < n; i++) {
    const k = multi.classes!.indexOf(predicted[i]);
    assert.ok(close(rowSum(e, i), proba[i][k]), `row ${i}`);
  }
  const c = multi.explain({ x, z }, { class: "c" });
  for (let i = 0; i < n; i++) assert.ok(close(c.values[i], proba[i][2]));
  assert.throws(
    () => multi.explain({ x, z }, { class: "d" }),
    (err: Error) => err instanceof UserError && /"d"/.test(err.message),
  );
  // x decides the class, z is noise
  assert.equal(multi.shapImportance({ x, z })[0].name, "x");

  const y = x.map((v, i) => 2 * v + z[i]);
  const reg = await fit({ x, z, y }, { target: "y", ...SMALL });
  const pred = reg.predict({ x, z }) as number[];
  const r = reg.explain({ x, z });
  assert.equal(r.scale, "value");
  assert.equal(r.classes, undefined);
  for (let i = 0; i < n; i++) assert.ok(close(rowSum(r, i), pred[i]));
  // bias is the (bootstrap-weighted) training mean: close to the mean of y
  const mean = y.reduce((a, b) => a + b, 0) / n;
  assert.ok(Math.abs(r.bias[0] - mean) < 0.3, `bias ${r.bias[0]} mean ${mean}`);
  assert.throws(() => reg.explain({ x, z }, { class: "a" }), /classification models only/);
});

Deno.test("explain (logistic): contributions sum to the log-odds; the base value is the log-odds at the training mean", async () => {
  const rows = churnRows(300, 9);
  const test = rows.slice(0, 50);
  const model = await fit(rows, { target: "churned", algorithm: "logistic", encoding: "onehot" });
  const pos = model.classes!.indexOf(model.positiveClass!);
  const proba = model.predictProba(test);
  const e = model.explain(test);
  assert.equal(e.scale, "log_odds");
  assert.deepEqual(e.columns, ["tenure", "plan", "autopay", "spend", "signup"]);
  for (let i = 0; i < test.length; i++) {
    assert.ok(close(rowSum(e, i), logit(proba[i][pos]), 1e-8), `row ${i}`);
  }
  // the base value: the model's log-odds for the (encoded) training mean row
  const X = model.transform(rows), w = X.cols;
  const mean = new Float64Array(w);
  for (let j = 0; j < w; j++) {
    let s = 0, c = 0;
    for (let i = 0; i < X.rows; i++) {
      const v = X.data[i * w + j];
      if (Number.isFinite(v)) (s += v, c++);
    }
    mean[j] = s / c;
  }
  const atMean = model.estimator.predictProba!({ data: mean, rows: 1, cols: w });
  assert.ok(close(e.bias[0], logit(atMean[pos]), 1e-8), `${e.bias[0]} vs ${logit(atMean[pos])}`);
  // the negative class: the negation
  const neg = model.explain(test, { class: model.classes![1 - pos] });
  for (let i = 0; i < test.length; i++) assert.ok(close(neg.values[i], -e.values[i], 1e-9));
  assert.equal(model.shapImportance(test)[0].name, "tenure");
});

Deno.test("explain (boosting): log-odds (binary), per-class logits (multiclass) and values sum exactly", async () => {
  const rows = churnRows(300, 10);
  const test = rows.slice(0, 30);
  const bin = await fit(rows, { target: "churned", algorithm: "boosting" });
  const pos = bin.classes!.indexOf(bin.positiveClass!);
  const p = bin.predictProba(test), e = bin.explain(test);
  assert.equal(e.scale, "log_odds");
  assert.deepEqual(e.columns, ["tenure", "plan", "autopay", "spend", "signup"]);
  for (let i = 0; i < test.length; i++) assert.ok(close(rowSum(e, i), logit(p[i][pos]), 1e-8), `row ${i}`);

  const rng = new Rng(5);
  const n = 300;
  const x = Array.from({ length: n }, () => rng.uniform(0, 3));
  const z = Array.from({ length: n }, () => rng.uniform(-1, 1));
  const cls = x.map((v) => (v < 1 ? "a" : v < 2 ? "b" : "c"));
  const multi = await fit({ x, z, cls }, { target: "cls", algorithm: "boosting" });
  const P = multi.predictProba({ x, z });
  const a = multi.explain({ x, z }, { class: "a" }), c = multi.explain({ x, z }, { class: "c" });
  assert.equal(a.scale, "logit");
  // softmax: the difference of two classes' logits is the log of their probability ratio
  for (let i = 0; i < n; i++) assert.ok(close(a.values[i] - c.values[i], Math.log(P[i][0] / P[i][2]), 1e-8));

  const y = x.map((v, i) => 2 * v + z[i]);
  const reg = await fit({ x, z, y }, { target: "y", algorithm: "boosting" });
  const pred = reg.predict({ x, z }) as number[], r = reg.explain({ x, z });
  assert.equal(r.scale, "value");
  for (let i = 0; i < n; i++) assert.ok(close(rowSum(r, i), pred[i], 1e-8));
});

Deno.test("explain after save and load gives the same attributions (forest and logistic)", async () => {
  const rows = churnRows(200, 6);
  const dir = await Deno.makeTempDir();
  try {
    for (const algorithm of ["forest", "logistic"] as const) {
      const model = await fit(rows, { target: "churned", ...SMALL, algorithm });
      const again = Model.load(model.save(`${dir}/${algorithm}`));
      assert.deepEqual(again.explain(rows.slice(0, 20)), model.explain(rows.slice(0, 20)));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("explain: an engine without SHAP values is a UserError naming the engine", async () => {
  const model = await fit(churnRows(120), { target: "churned", ...SMALL, algorithm: "ml-random-forest" });
  assert.equal(model.explainable, false);
  for (const call of [() => model.explain(churnRows(3)), () => model.shapImportance(churnRows(3))]) {
    assert.throws(
      call,
      (e: Error) => e instanceof UserError && e.message.includes("the ml-random-forest engine"),
    );
  }
});

Deno.test("shapSummary: a seeded sample of rows by column, largest mean |SHAP| first, with the rows' values", async () => {
  const rows = churnRows(400, 12);
  const model = await fit(rows, { target: "churned", ...SMALL });
  const s = model.shapSummary(rows, { sample: 120, seed: 3 });
  assert.deepEqual([s.rows, s.of, s.scale, s.output], [120, 400, "probability", "P(yes)"]);
  assert.deepEqual(model.shapSummary(rows, { sample: 120, seed: 3 }), s, "the same seed, the same sample");
  const imp = s.features.map((f) => f.importance);
  assert.deepEqual(imp, [...imp].sort((a, b) => b - a));
  assert.equal(s.features[0].name, "tenure");
  const tenure = s.features[0];
  assert.equal(tenure.kind, "numeric");
  assert.equal(tenure.values.length, 120);
  assert.ok(tenure.values.every((v) => typeof v === "number"));
  // each sampled row's values came from the table, and its SHAP values sum with the base to its output
  const plan = s.features.find((f) => f.name === "plan")!;
  assert.ok(plan.values.every((v) => v === null || ["basic", "plus", "pro"].includes(v as string)));
  assert.ok(s.features.find((f) => f.name === "signup")!.values.every((v) => v instanceof Date));
  assert.equal(model.shapSummary(rows.slice(0, 10)).rows, 10);
  assert.throws(() => model.shapSummary(rows, { sample: 0 }), /sample/);
});

Deno.test("tableColumns: records, DataFrames and columns give the same columns", () => {
  const records = [{ a: 1, b: "x" }, { a: 2, b: "y" }];
  assert.deepEqual(tableColumns(records), { a: [1, 2], b: ["x", "y"] });
  assert.deepEqual(tableColumns(pl.DataFrame(records)), { a: [1, 2], b: ["x", "y"] });
  assert.deepEqual(tableColumns({ a: [1, 2] }), { a: [1, 2] });
});

Deno.test("tableColumns: numeric DataFrame columns (typed-array path) hold what toArray gives, nulls and -0 included", () => {
  const df = pl.DataFrame({
    i64: pl.Series("i64", [1, 2, 9007199254740993, -5]).cast(pl.Int64),
    f64: [0.1, -0, 1e300, -2.5],
    withNull: [1.5, null, 2, 3],
    i32: pl.Series("i32", [1, -2, 3, 4]).cast(pl.Int32),
    u8: pl.Series("u8", [0, 255, 3, 4]).cast(pl.UInt8),
    f32: pl.Series("f32", [0.1, 2, 3, 4]).cast(pl.Float32),
    s: ["x", "y", null, "z"],
  });
  const cols = tableColumns(df);
  for (const name of df.columns) {
    const want = df.getColumn(name).toArray() as unknown[], got = cols[name] as unknown[];
    assert.ok(Array.isArray(got), name);
    assert.equal(got.length, want.length, name);
    for (let i = 0; i < want.length; i++) {
      assert.ok(Object.is(got[i], want[i]), `${name}[${i}]: ${got[i]} vs ${want[i]}`);
    }
  }
});

Deno.test("predict refuses what the service refuses: a missing input column, text in a numeric one, a non-date; missing values are fine", async () => {
  const rows = churnRows(300);
  const model = await fit(rows, { target: "churned", ...SMALL });
  const [one] = rows.slice(0, 1).map(({ churned: _, ...r }) => r);
  const refused = (table: Record<string, unknown>[], re: RegExp) =>
    assert.throws(
      () => model.predict(table as never),
      (e: Error) => e instanceof UserError && re.test(e.message),
    );
  const { tenure: _t, spend: _s, ...partial } = one;
  refused([partial], /^missing columns the model needs: tenure, spend$/);
  refused([one, { ...one, spend: "lots" }], /^row 2 spend: expected a number, got "lots"$/);
  refused(
    [{ ...one, signup: "last spring" }],
    /^row 1 signup: expected an ISO 8601 date, got "last spring"$/,
  );
  refused([{ ...one, autopay: "maybe" }], /^row 1 autopay: expected true or false, got "maybe"$/);
  // missing values, numbers as text, an unseen category and extra columns score as the service scores them
  const ok = [{ ...one, spend: null, tenure: "12", plan: "platinum", extra: 1 }];
  assert.equal(model.predict(ok).length, 1);
  assert.deepEqual(model.predict(ok), loadArtifactPredict(model, ok));
});

/** The artifact's (the service's) prediction of the same records, through a saved copy. */
function loadArtifactPredict(model: Model, records: Record<string, unknown>[]): unknown[] {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-model-check-" });
  try {
    model.save(dir);
    return loadArtifact(dir).predictRecords(records).map((p) => p.prediction);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
