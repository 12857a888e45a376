import assert from "node:assert/strict";
import { UserError } from "../../src/core/errors.ts";
import {
  type FilterableRun,
  matchesFilter,
  parseFilter,
  parseOrderBy,
  sortRuns,
} from "../../src/tracking/filter.ts";

function run(id: string, over: Partial<FilterableRun> = {}): FilterableRun {
  return {
    runId: id,
    experiment: "churn",
    runName: null,
    status: "FINISHED",
    startTime: Date.parse("2024-05-01T00:00:00Z"),
    endTime: Date.parse("2024-05-01T00:01:00Z"),
    parentRunId: null,
    params: {},
    metrics: {},
    tags: {},
    ...over,
  };
}

const RUNS = [
  run("a1", {
    params: { max_depth: "10", algorithm: "forest" },
    metrics: { roc_auc: 0.85, f1: 0.6 },
    tags: { "git.dirty": "false" },
  }),
  run("b2", {
    params: { max_depth: "12", algorithm: "forest" },
    metrics: { roc_auc: 0.9, f1: 0.7 },
    runName: "deep",
  }),
  run("c3", {
    params: { max_depth: "null", algorithm: "logistic" },
    metrics: { roc_auc: 0.75 },
    status: "FAILED",
  }),
  run("d4", { params: { algorithm: "ml-random-forest" }, metrics: { roc_auc: NaN }, tags: { team: "Risk" } }),
];

const ids = (filter: string) => RUNS.filter((r) => matchesFilter(parseFilter(filter), r)).map((r) => r.runId);

Deno.test("filter: AND binds tighter than OR; parentheses override", () => {
  assert.deepEqual(ids("metrics.roc_auc > 0.8 and params.max_depth = 10"), ["a1"]);
  assert.deepEqual(ids("metrics.roc_auc > 0.8 AND params.max_depth = 10 OR params.algorithm = 'logistic'"), [
    "a1",
    "c3",
  ]);
  assert.deepEqual(
    ids("metrics.roc_auc > 0.8 and (params.max_depth = 10 or params.algorithm = 'logistic')"),
    ["a1"],
  );
  assert.deepEqual(ids("not (params.algorithm = 'forest')"), ["c3", "d4"]);
});

Deno.test("filter: comparison operators on metrics, numeric params and strings", () => {
  assert.deepEqual(ids("metrics.roc_auc >= 0.85"), ["a1", "b2"]);
  assert.deepEqual(ids("metrics.roc_auc < 0.85"), ["c3"]); // NaN never compares
  assert.deepEqual(ids("metrics.roc_auc <= 0.85"), ["a1", "c3"]);
  assert.deepEqual(ids("metrics.f1 != 0.6"), ["b2"]); // a run lacking the metric fails != too
  assert.deepEqual(ids("metrics.f1 <> 0.6"), ["b2"]);
  assert.deepEqual(ids("params.max_depth > 10"), ["b2"]); // "null" is not a number
  assert.deepEqual(ids("params.max_depth = '10'"), ["a1"]);
  assert.deepEqual(ids("params.max_depth == 10.0"), ["a1"]);
  assert.deepEqual(ids("params.algorithm LIKE 'ml-%'"), ["d4"]);
  assert.deepEqual(ids("params.algorithm NOT LIKE '%forest'"), ["c3"]);
  assert.deepEqual(ids("tags.team ILIKE 'risk'"), ["d4"]);
  assert.deepEqual(ids("params.max_depth IN (10, 12)"), ["a1", "b2"]);
  assert.deepEqual(ids("params.algorithm not in ('forest')"), ["c3", "d4"]);
  assert.deepEqual(ids("metrics.f1 IS NULL"), ["c3", "d4"]);
  assert.deepEqual(ids("tags.`git.dirty` is not null"), ["a1"]);
  assert.deepEqual(ids("tags.git.dirty = 'false'"), ["a1"]);
  assert.deepEqual(ids('metrics."roc_auc" > 0.88'), ["b2"]);
});

Deno.test("filter: attributes, with aliases and time literals", () => {
  assert.deepEqual(ids("attributes.status = 'failed'"), ["c3"]);
  assert.deepEqual(ids("status != 'FINISHED'"), ["c3"]);
  assert.deepEqual(ids("run_name = 'deep'"), ["b2"]);
  assert.deepEqual(ids("attr.run_id LIKE 'a%'"), ["a1"]);
  assert.deepEqual(ids("duration = 60000").length, 4);
  assert.deepEqual(ids("start_time >= '2024-05-01' and start_time < '2024-05-02'").length, 4);
  assert.deepEqual(ids("start_time > '2024-05-02'"), []);
});

Deno.test("filter: malformed input is one UserError line with a column", () => {
  const bad: [string, RegExp][] = [
    ["", /empty filter/],
    ["metrics.roc_auc >", /expected a number or a quoted string.*at the end/],
    ["metrics.roc_auc > 'high'", /compares with a number/],
    ["metrics.roc_auc > 0.8 and", /expected a key/],
    ["(metrics.roc_auc > 0.8", /expected '\)'/],
    ["metrics.roc_auc > 0.8)", /expected AND, OR or the end/],
    ["params.x = 'open", /unterminated ' quote/],
    ["colour = 'red'", /unknown attribute 'colour'/],
    ["metrics.a ~ 1", /unexpected character '~'/],
    ["params.x in 1", /expected '\(' after IN/],
    ["params.x like 3", /LIKE needs a quoted pattern/],
    ["params.x is 3", /expected NULL after IS/],
    ["metrics. > 1", /expected a name after 'metrics\.'/],
    // a time that is no date would compare as text: "no runs" or "every run", silently
    ["start_time > 'garbage'", /start_time compares with a date or time .*not 'garbage'/],
    ["end_time < 'yesterday'", /end_time compares with a date or time/],
    ["start_time in ('2026-01-01', 'soon')", /start_time compares with a date or time .*not 'soon'/],
    ["duration > 'long'", /duration compares with a number of milliseconds, not 'long'/],
  ];
  for (const [text, re] of bad) {
    assert.throws(() => parseFilter(text), (e: unknown) => {
      assert.ok(e instanceof UserError, `${text}: not a UserError`);
      assert.match(e.message, re, text);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
  assert.throws(() => parseFilter("metrics.a > 1 or"), /at the end/);
  assert.throws(() => parseFilter("metrics.a > 1 xor metrics.b > 2"), /at column 15/);
});

Deno.test("order by: numeric, string and missing-last, asc and desc, stable", () => {
  const byAuc = sortRuns(RUNS, parseOrderBy("metrics.roc_auc desc")).map((r) => r.runId);
  assert.deepEqual(byAuc, ["b2", "a1", "c3", "d4"]); // NaN sorts last
  const asc = sortRuns(RUNS, parseOrderBy("metrics.roc_auc")).map((r) => r.runId);
  assert.deepEqual(asc, ["c3", "a1", "b2", "d4"]);
  const depth = sortRuns(RUNS, parseOrderBy(["params.max_depth DESC"])).map((r) => r.runId);
  assert.deepEqual(depth, ["c3", "b2", "a1", "d4"]); // "null" > "12" as text; absent last
  const multi = sortRuns(RUNS, parseOrderBy("params.algorithm, metrics.roc_auc desc")).map((r) => r.runId);
  assert.deepEqual(multi, ["b2", "a1", "c3", "d4"]);
  assert.deepEqual(sortRuns(RUNS, []).map((r) => r.runId), ["a1", "b2", "c3", "d4"]);
  assert.throws(() => parseOrderBy("metrics.roc_auc downwards"), /expected ASC or DESC/);
  assert.throws(() => parseOrderBy("> 3"), UserError);
  // a sort's mistakes speak of the sort, not of a filter
  assert.throws(() => parseOrderBy("nope"), /^UserError: sort: unknown attribute 'nope'/);
  assert.throws(() => parseOrderBy("metrics.roc_auc downwards"), /^UserError: sort: expected ASC or DESC/);
});

Deno.test("filter: a value that cannot be compared is unknown, as in SQL: !=, NOT IN and NOT = agree", () => {
  // c3's max_depth is the text "null" and d4 has none: neither is 10, nor is it known not to be
  const ne = ids("params.max_depth != 10");
  assert.deepEqual(ne, ["b2"]);
  assert.deepEqual(ids("params.max_depth NOT IN (10)"), ne);
  assert.deepEqual(ids("NOT params.max_depth = 10"), ne);
  assert.deepEqual(ids("not (params.max_depth = 10 or params.max_depth = 12)"), []);
  // unknown OR true is true; unknown AND false is false
  assert.deepEqual(ids("params.max_depth != 10 or params.algorithm = 'logistic'"), ["b2", "c3"]);
  assert.deepEqual(ids("not (params.max_depth = 10 and params.algorithm = 'x')"), ["a1", "b2", "c3", "d4"]);
});

Deno.test("filter: deep nesting and huge filters are one clear error, not the engine's stack", () => {
  const deep = "(".repeat(5000) + "metrics.a > 1" + ")".repeat(5000);
  assert.throws(
    () => parseFilter(deep),
    /^UserError: filter: parentheses and NOTs nested more than 64 deep at column 65/,
  );
  assert.throws(() => parseFilter("NOT ".repeat(100) + "metrics.a > 1"), /nested more than 64 deep/);
  const wide = Array.from({ length: 600 }, (_, i) => `metrics.m${i} > 0`).join(" OR ");
  assert.throws(() => parseFilter(wide), /more than 500 comparisons in one filter/);
  // within the bounds, as before
  assert.ok(parseFilter("(".repeat(60) + "metrics.a > 1" + ")".repeat(60)));
  assert.ok(parseFilter(Array.from({ length: 400 }, (_, i) => `metrics.m${i} > 0`).join(" OR ")));
});
