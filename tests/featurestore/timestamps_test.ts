/**
 * Timestamps as text, as sources and entity tables hold them: every ISO 8601 form is read to the
 * instant Date.parse gives (UTC when no zone is written), and text that is no timestamp is null,
 * never cut to a prefix (a time without seconds read as midnight let a label see a later value).
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { epochMs } from "../../src/featurestore/source.ts";

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
