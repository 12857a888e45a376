/**
 * Explanations on the scoring path: /predict?explain=true adds each record's
 * top SHAP contributions (single record and batch, forest and logistic), the
 * numbers Model.explain gives; a bad explain or top is a 422 naming the
 * parameter; an engine without SHAP values is a 422 naming the engine; and
 * batch `predict --explain` writes the shap_* columns.
 */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { UserError } from "../../src/core/errors.ts";
import { readTable } from "../../src/data/io.ts";
import { fit, Model } from "../../src/models/model.ts";
import { predictFile } from "../../src/serve/batch.ts";
import { explainQuery } from "../../src/serve/explain.ts";
import { HttpError } from "../../src/serve/http.ts";
import { buildOpenApi } from "../../src/serve/openapi.ts";
import { dirLoader, makeRows, sampleRecord, toCsv, trainFixture } from "./fixture.ts";
import { makeApp, post } from "./helpers.ts";

const root = await Deno.makeTempDir({ prefix: "orchard-serve-explain-" });
const forestDir = await trainFixture(`${root}/forest`, { seed: 5, trees: 6 });
const logisticDir = await trainFixture(`${root}/logistic`, { seed: 6, algorithm: "logistic" });
// an engine without SHAP values, saved as the train stage saves artifacts
const mlrf = await fit(makeRows(200, 9) as unknown as Record<string, unknown>[], {
  target: "churn",
  algorithm: "ml-random-forest",
  n_estimators: 5,
});
const mlrfDir = mlrf.save(`${root}/mlrf`);
const loader = dirLoader({
  "models:/churn@champion": { name: "churn", version: "2", dir: forestDir },
  "models:/churn@logistic": { name: "churn", version: "3", dir: logisticDir },
  "models:/churn@mlrf": { name: "churn", version: "4", dir: mlrfDir },
});

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

interface Top {
  column: string;
  value: unknown;
  contribution: number;
}
interface Explained {
  class?: string;
  scale: string;
  base_value: number;
  output: number;
  top: Top[];
  rest: number;
}

Deno.test("explainQuery: absent or false is null (no query parsed without '?'), bad values name the parameter", () => {
  equal(explainQuery("http://x/predict"), null);
  equal(explainQuery("http://x/predict?explain=false&top=3"), null);
  equal(explainQuery("http://x/predict?other=1"), null);
  deepStrictEqual(explainQuery("http://x/predict?explain=true"), { top: 5 });
  deepStrictEqual(explainQuery("http://x/predict?explain=1&top=12"), { top: 12 });
  for (
    const [q, field] of [
      ["explain=yes", "explain"],
      ["explain=true&top=0", "top"],
      ["top=2.5", "top"],
      [
        "explain=true&top=abc",
        "top",
      ],
      ["explain=true&top=101", "top"],
      ["explain=true&top=", "top"],
      // whole numbers written in digits only: Number() would take these
      ["explain=true&top=0x3", "top"],
      ["explain=true&top=1e1", "top"],
      ["explain=true&top=%201", "top"],
      ["explain=true&top=+3", "top"],
    ]
  ) {
    throws(
      () => explainQuery(`http://x/predict?${q}`),
      (e: unknown) => e instanceof HttpError && e.status === 422 && e.details?.[0].field === field,
      q,
    );
  }
});

Deno.test("/predict?explain=true: one record gets its top contributions, summing with the base value to its output", async () => {
  const t = await makeApp(loader);
  try {
    const rec = sampleRecord(3);
    const res = await t.app.request(post("/predict?explain=true", rec));
    equal(res.status, 200);
    const body = await res.json();
    const [p] = body.predictions as {
      prediction: string;
      probabilities: Record<string, number>;
      explanation: Explained;
    }[];
    const e = p.explanation;
    deepStrictEqual(Object.keys(e), ["class", "scale", "base_value", "output", "top", "rest"]);
    equal(e.class, "Yes"); // binary: the positive class
    equal(e.scale, "probability");
    ok(close(e.output, p.probabilities.Yes), `${e.output} vs P(Yes) ${p.probabilities.Yes}`);
    ok(close(e.base_value + e.top.reduce((a, c) => a + c.contribution, 0) + e.rest, e.output));
    ok(e.top.length >= 1 && e.top.length <= 4, "at most the 4 source columns");
    const mags = e.top.map((c) => Math.abs(c.contribution));
    deepStrictEqual(mags, [...mags].sort((a, b) => b - a));
    for (const c of e.top) equal(c.value, rec[c.column]);
    // the numbers Model.explain gives for the same record
    const m = Model.load(forestDir), ref = m.explain([rec]);
    equal(e.base_value, ref.bias[0]);
    for (const c of e.top) equal(c.contribution, ref.contributions[0][ref.columns.indexOf(c.column)]);
    ok(e.top.every((c) => ["tenure", "monthly_charges", "contract", "paperless"].includes(c.column)));
  } finally {
    await t.close();
  }
});

Deno.test("/predict?explain=true&top=2: a batch, each record explained; without explain nothing is added", async () => {
  const t = await makeApp(loader);
  try {
    const recs = [sampleRecord(1), sampleRecord(2), sampleRecord(5)];
    const body = await (await t.app.request(post("/predict?explain=true&top=2", recs))).json();
    equal(body.predictions.length, 3);
    for (const p of body.predictions as { explanation: Explained }[]) {
      ok(p.explanation.top.length <= 2 && p.explanation.top.length >= 1);
      ok(close(
        p.explanation.base_value + p.explanation.top.reduce((a, c) => a + c.contribution, 0) +
          p.explanation.rest,
        p.explanation.output,
      ));
    }
    for (const url of ["/predict", "/predict?explain=false"]) {
      const plain = await (await t.app.request(post(url, recs))).json();
      ok(plain.predictions.every((p: Record<string, unknown>) => !("explanation" in p)), url);
    }
  } finally {
    await t.close();
  }
});

Deno.test("/predict?explain=true on a logistic model: log-odds contributions of source columns, one-hot summed back", async () => {
  const t = await makeApp(loader, { uri: "models:/churn@logistic" });
  try {
    const body = await (await t.app.request(post("/predict?explain=true&top=4", sampleRecord(7)))).json();
    const [p] = body.predictions;
    equal(p.explanation.scale, "log_odds");
    // contract and paperless are one-hot encoded for the logistic model, yet each is one column here
    const names = Model.load(logisticDir).preprocessor.featureNames;
    ok(names.filter((f) => f.startsWith("contract=")).length >= 3, names.join(","));
    const cols = p.explanation.top.map((c: Top) => c.column);
    deepStrictEqual([...cols].sort(), ["contract", "monthly_charges", "paperless", "tenure"]);
    const pYes = p.probabilities.Yes;
    ok(Math.abs(p.explanation.output - Math.log(pYes / (1 - pYes))) < 1e-8);
    ok(close(
      p.explanation.base_value + p.explanation.top.reduce((a: number, c: Top) => a + c.contribution, 0) +
        p.explanation.rest,
      p.explanation.output,
    ));
  } finally {
    await t.close();
  }
});

Deno.test("/predict: a bad top or explain is a 422 naming the parameter; an engine without SHAP a 422 naming it", async () => {
  const t = await makeApp(loader);
  try {
    for (const [q, field] of [["explain=true&top=zero", "top"], ["explain=maybe", "explain"]]) {
      const res = await t.app.request(post(`/predict?${q}`, sampleRecord(1)));
      equal(res.status, 422, q);
      const body = await res.json();
      match(body.error, new RegExp(`query parameter ${field}`));
      deepStrictEqual(body.details.map((d: { field: string }) => d.field), [field]);
      equal(body.error_code, "INVALID_PARAMETER_VALUE");
    }
  } finally {
    await t.close();
  }
  const u = await makeApp(loader, { uri: "models:/churn@mlrf" });
  try {
    const res = await u.app.request(post("/predict?explain=true", sampleRecord(1)));
    equal(res.status, 422);
    match((await res.json()).error, /the ml-random-forest engine does not compute SHAP values/);
    // and it still predicts without explain
    equal((await u.app.request(post("/predict", sampleRecord(1)))).status, 200);
  } finally {
    await u.close();
  }
});

Deno.test("openapi: /predict documents explain and top, and the explanation schema", async () => {
  const t = await makeApp(loader);
  try {
    const doc = buildOpenApi(t.holder.current, 10) as {
      paths: { "/predict": { post: { parameters: { name: string }[] } } };
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    deepStrictEqual(doc.paths["/predict"].post.parameters.map((p) => p.name), ["explain", "top"]);
    ok("explanation" in doc.components.schemas.Prediction.properties!);
    deepStrictEqual(Object.keys(doc.components.schemas.Explanation.properties!), [
      "class",
      "scale",
      "base_value",
      "output",
      "top",
      "rest",
    ]);
  } finally {
    await t.close();
  }
});

Deno.test("batch predict --explain: shap_base_value and shap_top<k>_column/_value/_contribution per record", async () => {
  const rows = makeRows(30, 41);
  await Deno.writeTextFile(`${root}/in.csv`, toCsv(rows));
  const where = { store: `${root}/none.db`, modelsDir: `${root}/models` };
  for (const ext of ["csv", "parquet"]) {
    const out = `${root}/explained.${ext}`;
    const r = await predictFile({
      modelUri: forestDir,
      input: `${root}/in.csv`,
      output: out,
      ...where,
      explain: true,
      explainTop: 3,
    });
    deepStrictEqual(r.explained, { top: 3, scale: "probability" });
    const df = readTable(out);
    const shapCols = df.columns.filter((c) => c.startsWith("shap_"));
    deepStrictEqual(shapCols, [
      "shap_base_value",
      ...[1, 2, 3].flatMap((k) => [`shap_top${k}_column`, `shap_top${k}_value`, `shap_top${k}_contribution`]),
    ]);
    const recs = df.toRecords();
    const ref = Model.load(forestDir).explain(rows.map(({ churn: _, ...x }) => x));
    for (let i = 0; i < rows.length; i++) {
      const o = recs[i];
      ok(close(o.shap_base_value as number, ref.bias[i]));
      const col = o.shap_top1_column as string;
      const j = ref.columns.indexOf(col);
      ok(j >= 0, `row ${i}: ${col}`);
      ok(close(o.shap_top1_contribution as number, ref.contributions[i][j]));
      equal(o.shap_top1_value, String(rows[i][col as keyof typeof rows[0]]));
      // the largest by absolute value first
      const mag = (k: number) => Math.abs((o[`shap_top${k}_contribution`] as number | null) ?? 0);
      ok(mag(1) >= mag(2) && mag(2) >= mag(3));
    }
  }
  // without --explain, no shap columns
  await predictFile({ modelUri: forestDir, input: `${root}/in.csv`, output: `${root}/plain.csv`, ...where });
  ok(!readTable(`${root}/plain.csv`).columns.some((c) => c.startsWith("shap_")));
  await rejects(
    predictFile({
      modelUri: mlrfDir,
      input: `${root}/in.csv`,
      output: `${root}/x.csv`,
      ...where,
      explain: true,
    }),
    (e: Error) => e instanceof UserError && /the ml-random-forest engine/.test(e.message),
  );
  await rejects(
    predictFile({
      modelUri: forestDir,
      input: `${root}/in.csv`,
      output: `${root}/x.csv`,
      ...where,
      explain: true,
      explainTop: 0,
    }),
    (e: Error) => e instanceof UserError && /explain top/.test(e.message),
  );
});

Deno.test({
  name: "cleanup",
  fn: () => Deno.remove(root, { recursive: true }),
});
