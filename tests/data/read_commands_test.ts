/**
 * One messy file, every command (issue 15, part 6): train --data, predict
 * --input, drift's reading and the service's text/csv body read it by the
 * same rules, so predict no longer rejects the file train accepted; every
 * dropped column is listed with its reason, the configured id column too.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigSchema } from "../../src/config/schema.ts";
import { readTable } from "../../src/data/io.ts";
import { train } from "../../src/training/train.ts";
import { loadArtifact } from "../../src/models/artifact.ts";
import { predictFile } from "../../src/serve/batch.ts";
import { readInput } from "../../src/drift/load.ts";
import { parseMlflowCsv } from "../../src/serve/mlflow.ts";

/** A European export: semicolons, decimal commas, "." thousands, CRLF, a BOM, a few bad cells. */
function messyCsv(n: number): Uint8Array {
  const lines = ["customer_id;ref_id;plan;spend;tenure;churned"];
  let s = 7;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    const spend = 200 + rnd() * 3000;
    const tenure = Math.round(rnd() * 60);
    const churned = spend + rnd() * 1500 > 2200 ? "yes" : "no";
    const euro = spend.toFixed(2).replace(".", ",").replace(/\B(?=(\d{3})+(?!\d))/, ".");
    const plan = ["Basic; monthly", "Pro", "Team"][i % 3];
    lines.push(
      `c${i};r${1000 + i};"${plan}";${i % 97 === 13 ? "unknown" : euro};${i === 5 ? "?" : tenure};${churned}`,
    );
  }
  return new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(lines.join("\r\n") + "\r\n")]);
}

Deno.test("train and predict on the same messy file agree; dropped columns carry their reasons", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-read-cmd-" });
  try {
    const data = join(dir, "export.csv");
    Deno.writeFileSync(data, messyCsv(240));
    const config = ConfigSchema.parse({
      paths: { models: join(dir, "models"), reports: join(dir, "reports") },
      model: { algorithm: "forest", n_estimators: 10, n_jobs: 1 },
    });
    const r = await train({
      config,
      data,
      target: "churned",
      store: null,
      artifactsDir: join(dir, "artifacts"),
      reportsDir: null,
      verbose: false,
    });
    const model = loadArtifact(r.artifact);
    const kinds = Object.fromEntries(model.signature.inputs.map((c) => [c.name, c.kind]));
    assert.equal(kinds.spend, "numeric");
    assert.equal(kinds.tenure, "numeric");
    assert.equal(kinds.plan, "categorical");
    // the configured id column is listed with its reason, next to the id-like one preprocessing found
    const reasons = Object.fromEntries(r.dropped.map((d) => [d.name, d.reason]));
    assert.match(reasons.customer_id ?? "", /configured id column/);
    assert.ok(reasons.ref_id, JSON.stringify(r.dropped));
    assert.ok(r.metrics.accuracy > 0.7, `accuracy ${r.metrics.accuracy}`);

    const out = join(dir, "scored.csv");
    const p = await predictFile({
      modelUri: r.artifact,
      input: data,
      output: out,
      store: join(dir, "none.db"),
      modelsDir: join(dir, "models"),
      read: config.data.read,
    });
    assert.equal(p.rows, 240);
    const records = readTable(data, { log: () => {} }).toRecords().map(({ churned: _, ...x }) => x);
    const expected = model.predictRecords(records).map((x) => x.prediction);
    assert.deepEqual(readTable(out, { log: () => {} }).getColumn("prediction").toArray(), expected);

    // drift reads the same file the same way
    const current = readInput(data, "current", undefined, config.data.read);
    assert.ok(/Float64/.test(String(current.getColumn("spend").dtype)));
    assert.equal(current.getColumn("spend").nullCount(), 3);

    // and the service's text/csv body: semicolons, decimal commas
    const body = '\uFEFFplan;spend;tenure\r\nPro;1.234,50;12\r\n"Basic; monthly";99,5;3\r\n';
    assert.deepEqual(parseMlflowCsv(body, model.signature.inputs), [
      { plan: "Pro", spend: 1234.5, tenure: 12 },
      { plan: "Basic; monthly", spend: 99.5, tenure: 3 },
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test('the service reads "23,800.00" in a numeric column of a comma body as 23800', () => {
  const sig = [{ name: "price", kind: "numeric" as const, nullable: false }, {
    name: "city",
    kind: "categorical" as const,
    nullable: false,
  }];
  assert.deepEqual(parseMlflowCsv('price,city\n"23,800.00",Oslo\n17,Rome\n', sig as never), [
    { price: 23800, city: "Oslo" },
    { price: 17, city: "Rome" },
  ]);
});
