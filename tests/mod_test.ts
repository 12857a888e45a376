/** The public API (src/mod.ts): one import gives every stage what a notebook or program uses. */
import assert from "node:assert/strict";
import * as orchard from "../src/mod.ts";

Deno.test("mod.ts exports each stage's entry points", () => {
  const expected = [
    "loadConfig", // config
    "generateWorld",
    "readTable",
    "runPrep", // data
    "runFeatures",
    "buildSnapshots", // features
    "fit",
    "load",
    "Model",
    "loadArtifact",
    "rocAuc", // models
    "train",
    "loadFeatureSet",
    "tune", // training
    "TrackingStore",
    "diffRuns", // tracking
    "runCt", // continuous training
    "ModelRegistry",
    "parseModelUri", // registry
    "createApp",
    "predictFile", // serve
    "runDrift",
    "featureViewSides",
    "ks2samp", // drift
    "rocChart",
    "svgToPng",
    "htmlPage",
    "shapSummaryChart", // report
    "show",
    "chart", // notebooks
    "UserError",
    "formatNumber", // core
  ];
  const missing = expected.filter((name) => !(name in orchard));
  assert.deepEqual(missing, []);
});

Deno.test("the package name resolves to mod.ts (deno.json exports)", async () => {
  const viaName = await import("@orchard/orchard");
  assert.equal(viaName.fit, orchard.fit);
});

Deno.test("a saved model served in process through mod.ts alone: createApp with its collaborators, app.request()", async () => {
  const { createApp, fit, Metrics, ModelHolder, registryLoader } = orchard;
  const dir = Deno.makeTempDirSync({ prefix: "orchard-mod-serve-" });
  try {
    const rows = Array.from(
      { length: 200 },
      (_, i) => ({ tenure: i % 20, plan: ["a", "b"][i % 2], y: i % 20 > 9 ? "stay" : "go" }),
    );
    const model = await fit(rows, { target: "y", algorithm: "forest", n_estimators: 10, n_jobs: 1 });
    model.save(`${dir}/m`);
    const holder = new ModelHolder({
      uri: `${dir}/m`,
      loader: registryLoader({ store: `${dir}/none.db`, modelsDir: `${dir}/models` }),
    });
    await holder.start();
    const app = createApp({
      holder,
      metrics: new Metrics("lib"),
      worker: "lib",
      maxBatch: 100,
      maxBodyBytes: 1 << 20,
    });
    const post = (body: unknown) =>
      app.request("/predict", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const ok = await post({ tenure: 15, plan: "a" });
    assert.equal(ok.status, 200);
    assert.deepEqual(
      (await ok.json()).predictions.map((p: { prediction: unknown }) => p.prediction),
      model.predict([{ tenure: 15, plan: "a" }]),
    );
    const bad = await post({ tenure: "lots", plan: "a" });
    assert.equal(bad.status, 422);
    assert.match(JSON.stringify(await bad.json()), /tenure/);
    holder.stop();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
