import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import {
  columnsFromRecords,
  isMissing,
  median,
  parseDate,
  Preprocessor,
} from "../../../src/models/preprocess/index.ts";

const train = columnsFromRecords([
  { id: "a1", color: "red", size: 1.5, ok: true, when: "2024-01-15", blank: null },
  { id: "a2", color: "blue", size: 2.5, ok: false, when: "2024-03-02", blank: "NA" },
  { id: "a3", color: "red", size: null, ok: true, when: "2023-12-31", blank: "" },
  { id: "a4", color: "green", size: 4, ok: "NaN", when: null, blank: "None" },
]);

Deno.test("missing tokens: empty, NA, NaN, null, None all read as missing", () => {
  for (const v of ["", " ", "NA", "NaN", "null", "None", null, undefined, NaN]) {
    assert.ok(isMissing(v), String(v));
  }
  for (const v of ["0", 0, "no", false, "Na me"]) assert.ok(!isMissing(v), String(v));
});

Deno.test("kinds are inferred per column", () => {
  const p = Preprocessor.fit(train, { dropIdLike: false });
  const kinds = Object.fromEntries(p.columns.map((c) => [c.name, c.kind]));
  assertEquals(kinds, {
    id: "categorical",
    color: "categorical",
    size: "numeric",
    ok: "boolean",
    when: "datetime",
  });
});

Deno.test("all-missing column is dropped with its reason, not encoded", () => {
  const p = Preprocessor.fit(train, { dropIdLike: false });
  assertEquals(p.dropped, [{ name: "blank", reason: "all values missing" }]);
  assert.ok(!p.featureNames.some((f) => f.startsWith("blank")));
  // a record that has the column still transforms (the value is ignored)
  assertEquals(p.transformRecord({ blank: 5 }).length, p.width);
});

Deno.test("ID-like columns are dropped: unique text, and unique integers named like an id", () => {
  const n = 30;
  const cols = {
    customer_ref: Array.from({ length: n }, (_, i) => `C-${1000 + i}`),
    user_id: Array.from({ length: n }, (_, i) => i * 7),
    amount: Array.from({ length: n }, (_, i) => i * 1.5), // unique but a real measure: kept
    plan: Array.from({ length: n }, (_, i) => ["a", "b", "c"][i % 3]),
  };
  const p = Preprocessor.fit(cols);
  assertEquals(p.dropped.map((d) => d.name).sort(), ["customer_ref", "user_id"]);
  assertEquals(p.columns.map((c) => c.name), ["amount", "plan"]);
});

Deno.test("exclude keeps named columns out", () => {
  const p = Preprocessor.fit(train, { exclude: ["id", "when"], dropIdLike: false });
  assertEquals(p.columns.map((c) => c.name), ["color", "size", "ok"]);
});

Deno.test("one-hot: unseen category is all zeros without an other bucket, and 'other' with one", () => {
  const p = Preprocessor.fit({ color: ["red", "blue", "red", "green"] });
  assertEquals(p.featureNames, ["color=red", "color=blue", "color=green"]);
  assertEquals(Array.from(p.transformRecord({ color: "purple" })), [0, 0, 0]);
  assertEquals(Array.from(p.transformRecord({ color: " blue " })), [0, 1, 0]);
  const capped = Preprocessor.fit({ color: ["red", "blue", "red", "green", "red", "blue"] }, {
    maxCategories: 2,
  });
  assertEquals(capped.featureNames, ["color=red", "color=blue", "color=__other__"]);
  assertEquals(Array.from(capped.transformRecord({ color: "green" })), [0, 0, 1]); // beyond the cap
  assertEquals(Array.from(capped.transformRecord({ color: "purple" })), [0, 0, 1]); // unseen
});

Deno.test("one-hot: missing goes to its own column when training had missing values", () => {
  const p = Preprocessor.fit({ c: ["x", "y", null, "x"] });
  assertEquals(p.featureNames, ["c=x", "c=y", "c=__missing__"]);
  assertEquals(Array.from(p.transformRecord({ c: "NA" })), [0, 0, 1]);
  assertEquals(Array.from(p.transformRecord({})), [0, 0, 1]);
});

Deno.test("ordinal: codes by frequency, unseen = number of levels, missing = -1", () => {
  const p = Preprocessor.fit({ c: ["b", "a", "b", "c", "b", "a"] }, { encoding: "ordinal" });
  assertEquals(p.featureNames, ["c"]);
  const enc = (v: unknown) => p.transformRecord({ c: v })[0];
  assertEquals([enc("b"), enc("a"), enc("c"), enc("zzz"), enc(null)], [0, 1, 2, 3, -1]);
  // text is trimmed; missing text (padded too) is missing; a number or boolean reads as its text
  assertEquals([enc(" a "), enc(" NA "), enc(""), enc("None"), enc(NaN), enc(undefined)], [
    1,
    -1,
    -1,
    -1,
    -1,
    -1,
  ]);
  const n = Preprocessor.fit({ c: [1, 2, 2, true, 1, 2] }, { encoding: "ordinal" });
  const code = (v: unknown) => n.transformRecord({ c: v })[0];
  assertEquals([code(2), code("2"), code(" 1"), code(true), code("true"), code(3)], [0, 0, 1, 2, 2, 3]);
});

Deno.test("a level is found alike with few levels (compared) and many (hashed): trimmed, numbers as text, unseen, missing", () => {
  // 4 levels sit under the comparison threshold, 12 over it; "7" is a level of both (a number reads as it)
  for (const n of [4, 12]) {
    const levels = Array.from({ length: n }, (_, i) => (i === 2 ? "7" : `l${i}`));
    const values = levels.flatMap((l, i) => Array(n - i).fill(l)); // by frequency: the levels' order
    const p = Preprocessor.fit({ c: values }, { encoding: "ordinal" });
    const spec = p.toJSON().columns[0] as { levels: string[] };
    assertEquals(spec.levels, levels);
    const code = (v: unknown) => p.transformRecord({ c: v })[0];
    for (const [i, l] of levels.entries()) assertEquals([code(l), code(` ${l}\t`)], [i, i]);
    assertEquals([code(7), code("zzz"), code(null), code(" NA ")], [2, n, -1, -1]);
  }
});

Deno.test("numeric: median imputation and a missing indicator only where training had gaps", () => {
  const p = Preprocessor.fit({ x: [1, 2, null, 10], y: [5, 6, 7, 8] });
  assertEquals(p.featureNames, ["x", "x.missing", "y"]);
  assertEquals(Array.from(p.transformRecord({ x: "NaN", y: null })), [2, 1, 6.5]);
  assertEquals(Array.from(p.transformRecord({ x: "3.5", y: 1 })), [3.5, 0, 1]);
  assertEquals(Array.from(p.transformRecord({ x: "not a number", y: 1 })), [2, 1, 1]);
});

Deno.test("datetime becomes year/month/day/weekday parts (hour when times are present)", () => {
  const p = Preprocessor.fit({ d: ["2024-01-15", "2024-03-02", "2023-12-31"] });
  assertEquals(p.featureNames, ["d.year", "d.month", "d.day", "d.weekday"]);
  // 2024-02-29 is a Thursday (weekday 4 with Sunday = 0)
  assertEquals(Array.from(p.transformRecord({ d: "2024-02-29" })), [2024, 2, 29, 4]);
  // missing -> training medians per part: year 2024, month 3 (1,3,12), day 15 (15,2,31), weekday of those
  const miss = p.transformRecord({ d: null });
  assertEquals(Array.from(miss).slice(0, 3), [2024, 3, 15]);
  const t = Preprocessor.fit({ d: ["2024-01-15T08:30:00Z", "2024-01-16 17:00"] });
  assertEquals(t.featureNames.at(-1), "d.hour");
  assertEquals(t.transformRecord({ d: "2024-05-05T23:10:00" })[4], 23);
  assertEquals(parseDate("2024-01-01"), Date.UTC(2024, 0, 1));
  // a day its month does not have is no date (Date.parse alone reads 2023-02-30 as March 2nd)
  for (const bad of ["2023-02-30", "2023-02-29", "2100-02-29", "2023-04-31T10:00", "2023-13-01"]) {
    assertEquals(parseDate(bad), NaN, bad);
  }
  assertEquals(parseDate("2000-02-29"), Date.UTC(2000, 1, 29));
  assertEquals(parseDate("2023-12-31T23:59:59.999Z"), Date.UTC(2023, 11, 31, 23, 59, 59, 999));
  // Date objects (as polars returns for date columns) read the same as ISO text
  assertEquals(Array.from(p.transformRecord({ d: new Date(Date.UTC(2024, 1, 29)) })), [2024, 2, 29, 4]);
});

Deno.test("batch transform equals record-by-record transform", () => {
  const p = Preprocessor.fit(train, { dropIdLike: false });
  const batch = p.transform(train);
  const records = Array.from(
    { length: 4 },
    (_, i) => Object.fromEntries(Object.entries(train).map(([k, v]) => [k, v[i]])),
  );
  const byRecord = p.transformRecords(records);
  assertEquals(batch.rows, 4);
  assertEquals(batch.cols, p.width);
  assertEquals(Array.from(batch.data), Array.from(byRecord.data));
  assert.ok(Array.from(batch.data).every(Number.isFinite), "no NaN leaks out of preprocessing");
});

Deno.test("fit uses the training data only; state round-trips through JSON", () => {
  const p = Preprocessor.fit({ c: ["a", "b"], x: [1, 3] });
  const q = Preprocessor.fromJSON(JSON.parse(JSON.stringify(p.toJSON())));
  const rec = { c: "b", x: 7 };
  assertEquals(Array.from(q.transformRecord(rec)), Array.from(p.transformRecord(rec)));
  assertEquals(q.featureNames, p.featureNames);
  assertThrows(() => Preprocessor.fromJSON({ version: 9 } as never), /unsupported/);
});

Deno.test("signature lists kept columns with kinds, categories and nullability", () => {
  const p = Preprocessor.fit({ c: ["a", "b", null], x: [1, 2, 3] });
  assertEquals(p.signatureInputs(), [
    { name: "c", kind: "categorical", categories: ["a", "b"], nullable: true },
    { name: "x", kind: "numeric", nullable: false },
  ]);
});

Deno.test("column importances sum a column's features", () => {
  const p = Preprocessor.fit({ c: ["a", "b", "a"], x: [1, 2, 3] });
  assertEquals(p.columnImportances([0.25, 0.25, 0.5]), [{ name: "c", importance: 0.5 }, {
    name: "x",
    importance: 0.5,
  }]);
});

Deno.test("median by selection: the value a sorted copy gives, for any values (zeros' signs, ties, NaN, infinities)", () => {
  const bySort = (v: number[]) => {
    const s = Float64Array.from(v).sort(), m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const value = fc.oneof(
    fc.constantFrom(0, -0, 1, -1, NaN, Infinity, -Infinity),
    fc.double({ noNaN: true, min: -5, max: 5 }),
  );
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 60 }), (v) => Object.is(median(v), bySort(v))),
    {
      numRuns: 2000,
    },
  );
  assert.equal(median([]), 0);
  const big = Array.from({ length: 100_001 }, (_, i) => (i * 7919) % 100_001);
  assert.equal(median(big), 50_000);
  assert.equal(median(Array(1000).fill(3)), 3);
});
