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
