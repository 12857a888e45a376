/**
 * Timestamps as text, as sources and entity tables hold them: every ISO 8601 form is read to the
 * instant Date.parse gives (UTC when no zone is written), and text that is no timestamp is null,
 * never cut to a prefix (a time without seconds read as midnight let a label see a later value).
 * And a CSV source's text columns stay text.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { epochMs } from "../../src/featurestore/source.ts";
import { oneViewStore } from "./_world.ts";
import { UserError } from "../../src/core/errors.ts";

const read = (values: (string | null)[]) =>
  pl.DataFrame({ t: values }).select(epochMs("t", pl.Utf8, "test").alias("ms")).getColumn("ms").toArray()
    .map((v) => v === null ? null : Number(v));

Deno.test("epochMs: each ISO 8601 form of a string column is its instant; zone-less text is UTC", () => {
  const utc = (s: string) => Date.parse(s.endsWith("Z") || /[+-]\d\d:?\d\d$/.test(s) ? s : s + "Z");
  const forms = [
    "2024-03-01T10:00",
    "2024-03-01 10:00",
    "2024-03-01T10:00Z",
    "2024-03-01T10:00+02:00",
    "2024-03-01T10:00:30",
    "2024-03-01 10:00:30",
    "2024-03-01T10:00:30Z",
    "2024-03-01T10:00:30.250Z",
    "2024-03-01T10:00:30.5+02:00",
    "2024-03-01T10:00:30-0130",
    "2024-03-01T10:00:30z",
  ];
  const got = read(forms);
  forms.forEach((s, i) => {
    const want = utc(s.replace(" ", "T").replace(/z$/, "Z").replace(/([+-]\d\d)(\d\d)$/, "$1:$2"));
    assert.equal(got[i], want, `${s}: ${got[i] === null ? null : new Date(got[i]!).toISOString()}`);
  });
  assert.deepEqual(read(["2024-03-01"]), [Date.UTC(2024, 2, 1)]);
});

Deno.test("epochMs: text that is not a whole timestamp is null, not its date", () => {
  assert.deepEqual(
    read([
      "2024-03-01garbage",
      "2024-03-01T10",
      "03/01/2024",
      "2024-03-01T10:00:30+02",
      "",
      null,
      "2024-02-30",
    ]),
    [null, null, null, null, null, null, null],
  );
});

Deno.test("a CSV source's string key and string features keep their leading zeros (not read as numbers first)", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-fs-zeros-" });
  try {
    Deno.writeTextFileSync(
      join(dir, "v.csv"),
      "acct_id,event_ts,zip,score\n00042,2024-01-01T10:00:00Z,01234,1.5\n7,2024-01-02T10:00:00Z,99999,2\n",
    );
    const store = oneViewStore(dir, {
      source: join(dir, "v.csv"),
      entity: "account",
      key: "acct_id",
      timestamp: "event_ts",
      features: { zip: "string", score: "float64" },
    });
    store.apply();
    try {
      const spine = pl.DataFrame({ acct_id: ["00042", "7"], at: ["2024-02-01", "2024-02-01"] });
      const { frame } = store.getHistoricalFeatures(spine, ["v:zip", "v:score"], { timestampColumn: "at" });
      assert.deepEqual(frame.select("acct_id", "zip", "score").toRecords(), [
        { acct_id: "00042", zip: "01234", score: 1.5 },
        { acct_id: "7", zip: "99999", score: 2 },
      ]);
      await store.materialize({ start: 0, end: Date.parse("2024-03-01") });
      const online = await store.getOnlineFeatures({ acct_id: ["00042", "42"] }, ["v:zip"], {
        now: Date.parse("2024-03-01"),
      });
      assert.deepEqual(online.rows.map((r) => r.values.zip), ["01234", null]);
    } finally {
      await store.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("materialize's --start/--end: a time without a zone is UTC, as in the sources, whatever TZ says", async () => {
  const offline = new URL("../../src/featurestore/offline.ts", import.meta.url).href;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { toMs } from "${offline}"; console.log(toMs("2024-02-01T05:00:00"), toMs("2024-02-01 05:00"));`,
    ],
    env: { TZ: "Asia/Tokyo" },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(
    new TextDecoder().decode(out.stdout).trim(),
    `${Date.UTC(2024, 1, 1, 5)} ${Date.UTC(2024, 1, 1, 5)}`,
  );
});

/** One view `v` of accounts (acct_id) over `<dir>/v.csv`, timestamped by its text column event_ts. */
const accountStore = (dir: string) =>
  oneViewStore(dir, {
    source: join(dir, "v.csv"),
    entity: "account",
    key: "acct_id",
    timestamp: "event_ts",
    features: { score: "float64" },
  });

Deno.test("materialize: --start after --end is one clear error, not 'up to date'", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-fs-window-" });
  try {
    Deno.writeTextFileSync(join(dir, "v.csv"), "acct_id,event_ts,score\nA,2024-01-01T10:00:00Z,1.5\n");
    const store = accountStore(dir);
    store.apply();
    try {
      await assert.rejects(
        () => store.materialize({ start: "2025-01-01", end: "2024-01-01" }),
        (e: Error) => e instanceof UserError && /--start .* is after --end/.test(e.message),
      );
    } finally {
      await store.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("plan: a text timestamp column whose values are not timestamps is a problem naming the column and a value", () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-fs-badts-" });
  try {
    const write = (rows: string) =>
      Deno.writeTextFileSync(join(dir, "v.csv"), "acct_id,event_ts,score\n" + rows);
    const store = accountStore(dir);
    write("A,Month-to-month,1\nB,One year,2\n");
    assert.throws(() => store.plan(), /event_ts .*not timestamps .*'Month-to-month'/);
    write("A,2024-01-01T10:00:00Z,1\nB,03/01/2024,2\nC,,3\n");
    assert.throws(() => store.plan(), /1 of 2 values of event_ts .*'03\/01\/2024'/);
    write("A,2024-01-01T10:00:00Z,1\nC,,3\n"); // an empty timestamp is a row skipped, not a problem
    assert.equal(store.plan().pending > 0, true);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("point in time below a millisecond: a feature row 0.4 ms after the label time is never joined (Datetime us, ns, or ISO text)", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-fs-subms-" });
  try {
    const base = Date.UTC(2024, 0, 1, 12);
    // a row at 12:00:00.000900 (900 µs after noon), as a pandas-written parquet holds it
    pl.DataFrame({ k: ["a"], v: [1] })
      .withColumns(pl.Series("ts", [BigInt(base) * 1000n + 900n]).cast(pl.Datetime("us")))
      .writeParquet(join(dir, "v.parquet"));
    const store = oneViewStore(dir, { source: join(dir, "v.parquet"), key: "k", features: { v: "int64" } });
    store.apply();
    try {
      const at = (us: bigint[], unit: "us" | "ns") =>
        pl.DataFrame({ k: us.map(() => "a") }).withColumns(
          pl.Series("t", unit === "us" ? us : us.map((u) => u * 1000n)).cast(pl.Datetime(unit)),
        );
      const us = [0n, 500n, 900n, 901n, 1500n].map((d) => BigInt(base) * 1000n + d);
      for (const unit of ["us", "ns"] as const) {
        const { frame } = store.getHistoricalFeatures(at(us, unit), ["v:v"], { timestampColumn: "t" });
        // before it (0, 0.5 ms): never. Within its millisecond (0.9, 0.901 ms) times are compared in whole
        // ms, the label's rounded down and the row's up, so it is held back until the next (1.5 ms)
        assert.deepEqual(frame.getColumn("v").toArray(), [null, null, null, null, 1], unit);
      }
      const text = pl.DataFrame({
        k: ["a", "a"],
        t: ["2024-01-01T12:00:00.000500Z", "2024-01-01T12:00:00.001Z"],
      });
      assert.deepEqual(
        store.getHistoricalFeatures(text, ["v:v"], { timestampColumn: "t" }).frame.getColumn("v").toArray(),
        [
          null,
          1,
        ],
      );
    } finally {
      await store.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
