/** ISO 8601 text as the project reads it (src/core/dates.ts): UTC without a zone, only days the calendar has. */
import assert from "node:assert/strict";
import { isIsoDate, isoDateMs } from "../../src/core/dates.ts";

Deno.test("isoDateMs: dates and date-times, with and without a zone; zone-less is UTC", () => {
  assert.equal(isoDateMs("2024-03-01"), Date.UTC(2024, 2, 1));
  assert.equal(isoDateMs(" 2024-03-01 10:00 "), Date.UTC(2024, 2, 1, 10));
  assert.equal(isoDateMs("2024-03-01T10:00:30.5Z"), Date.UTC(2024, 2, 1, 10, 0, 30, 500));
  assert.equal(isoDateMs("2024-03-01T10:00+02:00"), Date.UTC(2024, 2, 1, 8));
  assert.equal(isoDateMs("2024-02-29"), Date.UTC(2024, 1, 29));
});

Deno.test("isoDateMs: text that is no ISO date, or a day its month lacks, is NaN; isIsoDate does not trim", () => {
  for (
    const bad of ["2023-02-29", "2023-04-31", "2023-13-01", "0000-00-00", "March 1", "2024-03-01T25:00", ""]
  ) {
    assert.ok(Number.isNaN(isoDateMs(bad)), bad);
    assert.equal(isIsoDate(bad), false, bad);
  }
  assert.equal(isIsoDate("2024-03-01"), true);
  assert.equal(isIsoDate(" 2024-03-01"), false);
});
