import assert from "node:assert/strict";
import { formatNumber, formatValue, MISSING } from "../../src/core/format.ts";

Deno.test("formatNumber: one placeholder for null, undefined and NaN", () => {
  for (const v of [null, undefined, NaN]) assert.equal(formatNumber(v), MISSING);
  assert.equal(formatNumber(null, { missing: "" }), "");
});

Deno.test("formatNumber: integers plain, 4 decimals, exponent when tiny or huge", () => {
  assert.equal(formatNumber(3), "3");
  assert.equal(formatNumber(0.123456), "0.1235");
  assert.equal(formatNumber(0.0000123456), "1.235e-5");
  assert.equal(formatNumber(1234567.5), "1.235e+6");
  assert.equal(formatNumber(0.5, { digits: 2 }), "0.50");
  assert.equal(formatNumber(2, { fixedIntegers: true }), "2.0000");
  assert.equal(formatNumber(0.0000123, { exponentDigits: 2 }), "1.23e-5");
  assert.equal(formatNumber(Infinity), "inf");
  assert.equal(formatNumber(-Infinity), "-inf");
});

Deno.test("formatNumber: significant style drops trailing zeros", () => {
  assert.equal(formatNumber(0.69, { style: "significant", digits: 6 }), "0.69");
  assert.equal(formatNumber(1 / 3, { style: "significant", digits: 6 }), "0.333333");
  assert.equal(formatNumber(10, { style: "significant" }), "10");
});

Deno.test("formatValue: numbers through formatNumber, strings as is, others as JSON", () => {
  assert.equal(formatValue(0.25), "0.2500");
  assert.equal(formatValue("gini"), "gini");
  assert.equal(formatValue(null), MISSING);
  assert.equal(formatValue(undefined, { missing: "" }), "");
  assert.equal(formatValue(true), "true");
  assert.equal(formatValue([1, 2]), "[1,2]");
  assert.equal(formatValue(10n), "10");
  assert.equal(formatValue(new Date(0)), "1970-01-01T00:00:00.000Z");
});
