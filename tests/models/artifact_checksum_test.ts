/**
 * Issue 12, defect 3: every load of an artifact verifies it against the
 * checksum record written when it was saved, whether it is loaded by a
 * models:/ URI or by a path. A flipped byte, an edited manifest, a missing or
 * an added file is a UserError naming the file; an untampered artifact loads
 * and predicts exactly as the model that saved it.
 */
import { join } from "node:path";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { UserError } from "../../src/core/errors.ts";
import { sha256Hex } from "../../src/core/digest.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { loadEstimator } from "../../src/models/engines/registry.ts";
import { fit, load, Model } from "../../src/models/model.ts";
import { churnRows } from "./_data.ts";
import { flipByte, flipLeafValue, leafValueByte } from "./_tamper.ts";

const SMALL = { algorithm: "forest" as const, n_estimators: 10, max_depth: 6, n_jobs: 1, random_state: 5 };
const rows = churnRows(240, 21);
const records = rows.map(({ churned: _, ...r }) => r);
const model = await fit(rows, { target: "churned", ...SMALL });

/** A freshly saved artifact in a temp directory (removed after `fn`). */
async function withArtifact(fn: (path: string) => void | Promise<void>): Promise<void> {
  const root = Deno.makeTempDirSync({ prefix: "orchard-checksum-" });
  try {
    await fn(model.save(join(root, "run1")));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const changed = (path: string, what = "checksum mismatch") =>
  new RegExp(`^${escape(path)}: ${what} \\(the artifact was changed after it was saved\\)$`);

Deno.test("checksum: one flipped byte in model.bin fails the load, naming the file", async () => {
  await withArtifact((path) => {
    // a leaf value: the forest's decoder cannot notice it, so without the checksum it would predict
    flipLeafValue(join(path, "model.bin"));
    const e = assertThrows(() => loadArtifact(path), changed(join(path, "model.bin")));
    assert.ok(e instanceof UserError, "a user's error (one line, exit 2), not a bug");
    // the library's load goes through the same check
    assertThrows(() => Model.load(path), changed(join(path, "model.bin")));
    assertThrows(() => load(path), changed(join(path, "model.bin")));
    // only the checksum notices: the engine itself reads the tampered bytes and predicts with them
    const tampered = loadEstimator("forest", Deno.readFileSync(join(path, "model.bin")));
    const X = model.transform(records);
    assert.notDeepStrictEqual(tampered.predictProba!(X), model.estimator.predictProba!(X));
  });
});

Deno.test("checksum: a flipped byte anywhere (header, payload, last), a truncated or a grown model.bin all fail", async () => {
  await withArtifact((path) => {
    const bin = join(path, "model.bin");
    const original = Deno.readFileSync(bin);
    for (const at of [0, leafValueByte(bin) - 3, original.length >> 1, original.length - 1]) {
      flipByte(bin, at);
      assertThrows(() => loadArtifact(path), changed(bin));
      Deno.writeFileSync(bin, original);
    }
    Deno.writeFileSync(bin, original.subarray(0, original.length - 1));
    assertThrows(() => loadArtifact(path), changed(bin));
    Deno.writeFileSync(bin, new Uint8Array([...original, 0]));
    assertThrows(() => loadArtifact(path), changed(bin));
    Deno.writeFileSync(bin, original);
    loadArtifact(path);
  });
});

Deno.test("checksum: an edit to a JSON file that still parses fails, naming that file", async () => {
  await withArtifact((path) => {
    for (const name of ["preprocess.json", "signature.json", "params.json", "metrics.json", "lineage.json"]) {
      const file = join(path, name);
      const text = Deno.readTextFileSync(file);
      Deno.writeTextFileSync(file, text.replace(/\n$/, " \n")); // the same values, one more byte
      assertThrows(() => loadArtifact(path), changed(file));
      Deno.writeTextFileSync(file, text);
    }
    const example = join(path, "input_example.json");
    const rowsBefore = JSON.parse(Deno.readTextFileSync(example));
    rowsBefore[0].tenure = 999;
    Deno.writeTextFileSync(example, JSON.stringify(rowsBefore, null, 2) + "\n");
    assertThrows(() => loadArtifact(path), changed(example));
  });
});

Deno.test("checksum: the manifest is covered too (threshold, classes or the record itself)", async () => {
  await withArtifact((path) => {
    const file = join(path, "artifact.json");
    const text = Deno.readTextFileSync(file);
    const edits: ((m: Record<string, unknown>) => void)[] = [
      (m) => (m.threshold = 0.9),
      (m) => (m.positive_class = "no"),
      (m) => (m.classes = ["yes", "no"]),
      (m) => ((m.files as Record<string, { sha256: string }>)["model.bin"].sha256 = "0".repeat(64)),
    ];
    for (const edit of edits) {
      const m = JSON.parse(text);
      edit(m);
      Deno.writeTextFileSync(file, JSON.stringify(m, null, 2) + "\n");
      assertThrows(() => loadArtifact(path), changed(file));
    }
    Deno.writeTextFileSync(file, text);
    assertEquals(loadArtifact(path).manifestVerified, true);
  });
});

Deno.test("checksum: a missing file or an added one fails, naming it", async () => {
  await withArtifact((path) => {
    Deno.writeTextFileSync(join(path, "notes.txt"), "x");
    assertThrows(() => loadArtifact(path), changed(join(path, "notes.txt"), "not part of the artifact"));
    Deno.removeSync(join(path, "notes.txt"));
    Deno.writeTextFileSync(join(path, "constructor"), "x"); // not taken for a recorded name
    assertThrows(() => loadArtifact(path), changed(join(path, "constructor"), "not part of the artifact"));
    Deno.removeSync(join(path, "constructor"));
    Deno.mkdirSync(join(path, "extra"));
    assertThrows(() => loadArtifact(path), changed(join(path, "extra"), "not part of the artifact"));
    Deno.removeSync(join(path, "extra"));
    const metrics = join(path, "metrics.json");
    const text = Deno.readTextFileSync(metrics);
    Deno.removeSync(metrics);
    assertThrows(() => loadArtifact(path), changed(metrics, "missing"));
    Deno.writeTextFileSync(metrics, text);
    // two problems: the first named in full, the rest listed
    flipByte(join(path, "model.bin"));
    Deno.writeTextFileSync(join(path, "z.txt"), "x");
    const e = assertThrows(() => loadArtifact(path), UserError);
    assertEquals(e.message.split("\n").length, 1);
    assert.match(e.message, /model\.bin: checksum mismatch .*; and 1 more: .*z\.txt$/);
  });
});

Deno.test("checksum: an artifact whose manifest has no checksum record is refused, telling to retrain", async () => {
  await withArtifact((path) => {
    const file = join(path, "artifact.json");
    const { files: _, manifest_sha256: _d, ...rest } = JSON.parse(Deno.readTextFileSync(file));
    Deno.writeTextFileSync(file, JSON.stringify(rest, null, 2) + "\n");
    const e = assertThrows(() => loadArtifact(path), UserError);
    assertEquals(e.message.split("\n").length, 1);
    assert.match(e.message, /no valid checksum record.*retrain the model/);
  });
});

Deno.test("checksum: an artifact saved before manifests carried their own digest still has every file verified", async () => {
  await withArtifact((path) => {
    // the manifest as writeArtifact wrote it before issue 12: the files record, no manifest_sha256
    const file = join(path, "artifact.json");
    const { manifest_sha256: _, ...older } = JSON.parse(Deno.readTextFileSync(file));
    Deno.writeTextFileSync(file, JSON.stringify(older, null, 2) + "\n");
    const m = loadArtifact(path);
    assertEquals(m.manifestVerified, false);
    assertEquals(m.predictRecords(records), loadArtifact(path).predictRecords(records));
    flipByte(join(path, "model.bin"));
    assertThrows(() => loadArtifact(path), changed(join(path, "model.bin")));
  });
});

Deno.test("checksum: an untampered artifact reloads, verified, and predicts identically", async () => {
  await withArtifact((path) => {
    const manifest = JSON.parse(Deno.readTextFileSync(join(path, "artifact.json")));
    assertEquals(
      Object.keys(manifest.files).sort(),
      [...Deno.readDirSync(path)].map((e) => e.name).filter((n) => n !== "artifact.json").sort(),
    );
    for (const [name, f] of Object.entries(manifest.files as Record<string, { sha256: string }>)) {
      assertEquals(sha256Hex(Deno.readFileSync(join(path, name))), f.sha256, name);
    }
    const a = loadArtifact(path);
    assertEquals(a.manifestVerified, true);
    const again = Model.load(path);
    assertEquals(again.predictProba(records), model.predictProba(records));
    assertEquals(again.predict(records), model.predict(records));
    assertEquals(a.predictRecords(records), model.predictRows(records));
    // loading does not change the artifact: a second load verifies the same bytes
    assertEquals(loadArtifact(path).predictRecords(records), a.predictRecords(records));
  });
});
