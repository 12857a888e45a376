/**
 * The config reference renderer walks the zod schema's JSON Schema: nested
 * sections become dotted keys, a default given for a whole object reaches its
 * keys, a mapping of objects documents its entries' fields, and the type text
 * is the one validation errors use.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { configKeys, mdCell, mdText, renderConfigReference } from "../../src/config/reference.ts";
import type { JsonSchema } from "../../src/config/load.ts";

const Gate = z.strictObject({
  threshold: z.number().optional().describe("the floor"),
  greater_is_better: z.boolean().default(true).describe("direction"),
});
const Demo = z.strictObject({
  store: z.strictObject({
    path: z.string().min(1).default("x.db").describe("where | it lives"),
    inner: z.strictObject({ day: z.string().regex(/^\d+$/).optional().describe("a day") })
      .default({}).describe("nested"),
  }).default({ path: "x.db", inner: {} }).describe("the store"),
  gates: z.record(z.string(), Gate).default({ f1: { greater_is_better: true } }).describe("metric -> gate"),
  depth: z.number().int().positive().nullable().default(null).describe("depth; null: none"),
}).strict();
const schema = z.toJSONSchema(Demo, { io: "input", unrepresentable: "any" }) as JsonSchema;

Deno.test("configKeys: dotted leaf keys with their type, default and description", () => {
  const keys = configKeys(schema);
  assert.deepEqual(keys.map((k) => k.key), [
    "store.path",
    "store.inner.day",
    "gates",
    "gates.<name>.threshold",
    "gates.<name>.greater_is_better",
    "depth",
  ]);
  const byKey = Object.fromEntries(keys.map((k) => [k.key, k]));
  assert.deepEqual(byKey["store.path"], {
    key: "store.path",
    type: "a non-empty string",
    default: "x.db",
    description: "where | it lives",
  });
  assert.equal(byKey["store.inner.day"].type, "a string matching `^\\d+$`");
  assert.equal(byKey["store.inner.day"].default, undefined);
  assert.equal(byKey["gates"].type, "a mapping of name -> a mapping");
  assert.deepEqual(byKey["gates"].default, { f1: { greater_is_better: true } });
  assert.equal(byKey["gates.<name>.greater_is_better"].default, true);
  assert.deepEqual([byKey["depth"].type, byKey["depth"].default], ["one of an integer > 0 or null", null]);
});

Deno.test("renderConfigReference: one section per top-level key, a row per leaf key", () => {
  const page = renderConfigReference(schema);
  assert.match(page, /## store\n\nThe store\.\n\n\| key \| accepts \| default \| description \|/);
  assert.match(page, /\| `store\.path` \| a non-empty string \| `"x\.db"` \| where \\\| it lives \|/);
  assert.match(page, /\| `depth` \| one of an integer > 0 or null \| `null` \| depth; null: none \|/);
  assert.match(page, /## gates[\s\S]*\| `gates\.<name>\.threshold` \| a number \| {2}\| the floor \|/);
});

Deno.test("mdText keeps text literal outside code spans; mdCell also escapes pipes and newlines", () => {
  assert.equal(
    mdText("out/<run>/ and *.csv, but `<run> *` as is; a < b"),
    "out/&lt;run>/ and \\*.csv, but `<run> *` as is; a < b",
  );
  assert.equal(mdCell("a | b\n`c|d`"), "a \\| b `c\\|d`");
});

Deno.test("the project's schema: every key described, section defaults reach their keys", () => {
  const keys = configKeys();
  assert.deepEqual(keys.filter((k) => !k.description).map((k) => k.key), []);
  const get = (key: string) => keys.find((k) => k.key === key);
  assert.equal(get("data.sources.customers.path")?.default, "data/raw/customers.csv");
  assert.equal(get("serve.port")?.type, "an integer >= 0 and <= 65535");
});
