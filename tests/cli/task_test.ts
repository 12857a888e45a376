import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  checkWritable,
  defineTask,
  executeTask,
  helpText,
  type OptionSpecs,
  PermissionError,
  type TaskSpec,
} from "../../src/cli/task.ts";
import { UserError } from "../../src/core/errors.ts";
import { canMakeReadOnly, readOnlyFolder } from "../_support/readonly.ts";

/** Runs a task in-process, capturing what it prints. */
async function capture<R, O extends OptionSpecs>(spec: TaskSpec<R, O>, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await executeTask(spec, argv);
    return { code, out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const spec: TaskSpec<{ rows: number; trees: number }> = {
  name: "demo",
  description: "A demo task.",
  options: { rows: { type: "string", description: "row count", valueName: "n" } },
  run(ctx) {
    const rows = Number(ctx.values.rows ?? 1);
    if (!Number.isInteger(rows)) throw new UserError(`--rows ${ctx.values.rows}: expected an integer`);
    return { rows, trees: ctx.config.model.n_estimators };
  },
  summary: (r) => `demo: ${r.rows} rows, ${r.trees} trees`,
};

Deno.test("a task prints its summary, or one JSON object with --json", async () => {
  const human = await capture(spec, ["--rows", "3"]);
  assert.equal(human.code, 0);
  assert.deepEqual(human.out, ["demo: 3 rows, 100 trees"]);
  const json = await capture(spec, ["--rows", "3", "--json", "--set", "model.n_estimators=7"]);
  assert.equal(json.code, 0);
  assert.deepEqual(JSON.parse(json.out.join("")), { rows: 3, trees: 7 });
});

Deno.test("--help lists the task's own and the common options", async () => {
  const r = await capture(spec, ["--help"]);
  assert.equal(r.code, 0);
  const text = helpText(spec);
  for (const flag of ["--rows <n>", "--config <file>", "--set <dotted.key=value>", "--json", "--help"]) {
    assert.ok(text.includes(flag), flag);
  }
  assert.equal(r.out.join("\n").trim(), text.trim());
});

Deno.test("user mistakes exit 2 with one line each; bugs exit 1 without a stack", async () => {
  const unknown = await capture(spec, ["--nope"]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.err.length, 1);
  assert.match(unknown.err[0], /^demo: .*--nope/);

  const bad = await capture(spec, ["--rows", "x"]);
  assert.deepEqual([bad.code, bad.err], [2, ["demo: --rows x: expected an integer"]]);

  const cfg = await capture(spec, ["--set", "model.n_estimators=-1", "--set", "split.seed=abc"]);
  assert.equal(cfg.code, 2);
  assert.equal(cfg.err.length, 2);
  assert.deepEqual(cfg.err.sort(), [
    "demo: --set model.n_estimators=-1: too small: expected number to be >0",
    "demo: --set split.seed=abc: expected an integer >= 0",
  ]);

  const crash = await capture({ ...spec, run: () => JSON.parse("{") }, []);
  assert.equal(crash.code, 1);
  assert.equal(crash.err.length, 1);
  assert.match(crash.err[0], /^demo: internal error: /);
  assert.ok(!crash.err[0].includes("    at "), "no stack trace");
});

const typed = defineTask({
  name: "typed",
  description: "Typed options.",
  options: {
    name: { type: "string", description: "a name" },
    loud: { type: "boolean", description: "shout" },
    tag: { type: "string", multiple: true, description: "tags" },
    "fail-on-odd": { type: "boolean", description: "exit 1 when the count is odd" },
  },
  run(ctx) {
    // typed from the specs: no casts (a wrong type here fails `deno check`)
    const name: string | undefined = ctx.values.name;
    const loud: boolean | undefined = ctx.values.loud;
    const tags: string[] | undefined = ctx.values.tag;
    const text = `${name ?? "nobody"}${loud ? "!" : ""}`;
    return { text, tags: tags ?? [], count: (tags ?? []).length };
  },
  summary: (r) => `${r.text} [${r.tags.join(",")}]`,
  json: (r) => ({ text: r.text, n: r.count }),
  failure: (r, ctx) => (ctx.values["fail-on-odd"] && r.count % 2 === 1 ? "odd count" : undefined),
});

Deno.test("typed options: strings, flags and repeatable values reach run with their types", async () => {
  const r = await capture(typed, ["--name", "ada", "--loud", "--tag", "a", "--tag", "b"]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.out, ["ada! [a,b]"]);
});

Deno.test("the json hook shapes --json output", async () => {
  const r = await capture(typed, ["--tag", "x", "--json"]);
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.out.join("")), { text: "nobody", n: 1 });
});

Deno.test("the failure hook: the result is printed, then one line and exit 1", async () => {
  const odd = await capture(typed, ["--tag", "x", "--fail-on-odd"]);
  assert.equal(odd.code, 1);
  assert.deepEqual(odd.out, ["nobody [x]"]);
  assert.deepEqual(odd.err, ["typed: odd count"]);
  const even = await capture(typed, ["--tag", "x", "--tag", "y", "--fail-on-odd"]);
  assert.equal(even.code, 0);
  assert.deepEqual(even.err, []);
});

/** True when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
/** Compiles only for `true`: a type-level assertion that `deno check` (and so `deno test`) enforces. */
const assertType = <T extends true>(): T | void => {};

Deno.test("defineTask infers each value's exact type from its option spec", async () => {
  const task = defineTask({
    name: "types",
    description: "Types.",
    options: {
      text: { type: "string", description: "a string" },
      flag: { type: "boolean", description: "a flag" },
      many: { type: "string", multiple: true, description: "repeatable" },
      flags: { type: "boolean", multiple: true, short: "v", description: "repeatable flag" },
    },
    run(ctx) {
      assertType<Equal<typeof ctx.values.text, string | undefined>>();
      assertType<Equal<typeof ctx.values.flag, boolean | undefined>>();
      assertType<Equal<typeof ctx.values.many, string[] | undefined>>();
      assertType<Equal<typeof ctx.values.flags, boolean[] | undefined>>();
      assertType<Equal<keyof typeof ctx.values, "text" | "flag" | "many" | "flags">>();
      // @ts-expect-error: an option the spec does not declare
      void ctx.values.undeclared;
      // @ts-expect-error: a string option is not a boolean
      const wrong: boolean | undefined = ctx.values.text;
      void wrong;
      return { values: ctx.values };
    },
  });
  const r = await capture(task, [
    "--text",
    "a",
    "--flag",
    "--many",
    "x",
    "--many",
    "y",
    "-v",
    "-v",
    "--json",
  ]);
  assert.equal(r.code, 0);
  const printed = JSON.parse(r.out.join("")).values;
  assert.deepEqual(
    { text: printed.text, flag: printed.flag, many: printed.many, flags: printed.flags },
    { text: "a", flag: true, many: ["x", "y"], flags: [true, true] },
  );
  // a task without options has no values to read
  defineTask({
    name: "bare",
    description: "No options.",
    run(ctx) {
      assertType<Equal<keyof typeof ctx.values, never>>();
      return 0;
    },
  });
});

Deno.test("summary and json receive the very object run returned; json defaults to it", async () => {
  const seen: { run?: object; summary?: object; json?: object } = {};
  const task = defineTask({
    name: "same",
    description: "Identity.",
    run() {
      seen.run = { rows: 3, secret: "kept out of --json" };
      return seen.run as { rows: number; secret: string };
    },
    summary(r) {
      assertType<Equal<typeof r, { rows: number; secret: string }>>();
      seen.summary = r;
      return `rows ${r.rows}`;
    },
    json(r) {
      seen.json = r;
      return { rows: r.rows };
    },
  });
  const human = await capture(task, []);
  assert.deepEqual(human.out, ["rows 3"]);
  assert.equal(seen.summary, seen.run, "summary gets run's result itself");
  assert.equal(seen.json, undefined, "json is not called without --json");

  delete seen.summary;
  const json = await capture(task, ["--json"]);
  assert.deepEqual(json.out, ['{"rows":3}']);
  assert.equal(seen.json, seen.run, "json gets run's result itself");
  assert.equal(seen.summary, undefined, "summary is not called under --json");

  // without a json hook, --json prints the result itself
  const plain = await capture({ ...task, json: undefined }, ["--json"]);
  assert.deepEqual(plain.out, ['{"rows":3,"secret":"kept out of --json"}']);
});

Deno.test("a denied read or write is one line naming the path, exit 2, no stack (issue 12, defect 7)", async () => {
  const eacces = Object.assign(new Error("EACCES: permission denied, open '/srv/in.csv'"), {
    code: "EACCES",
  });
  const cases: [Error, string][] = [
    [
      new Deno.errors.NotCapable(
        'Requires write access to "../out.csv", run again with the --allow-write flag',
      ),
      '"../out.csv"',
    ],
    [
      new Deno.errors.NotCapable('Requires read access to "/etc/x", run again with the --allow-read flag'),
      "/etc/x",
    ],
    [
      new Deno.errors.PermissionDenied("Permission denied (os error 13): open '/srv/out.csv'"),
      "/srv/out.csv",
    ],
    [eacces, "/srv/in.csv"],
    // wrapped by a caller: the cause is found
    [
      new Error("writing failed", {
        cause: new Deno.errors.NotCapable(
          'Requires write access to "/x/y", run again with the --allow-write flag',
        ),
      }),
      "/x/y",
    ],
  ];
  for (const [error, path] of cases) {
    const r = await capture({ ...spec, run: () => Promise.reject(error) }, []);
    assert.equal(r.code, 2, error.message);
    assert.equal(r.err.length, 1, r.err.join("\n"));
    assert.match(r.err[0], /^demo: .*permission denied/i);
    assert.ok(r.err[0].includes(path), r.err[0]);
    assert.ok(!r.err[0].includes("internal error") && !r.err[0].includes("    at "), r.err[0]);
  }
});

Deno.test("ORCHARD_DEBUG=1: a denied write is still its one line and exit 2, then the stack", async () => {
  const before = Deno.env.get("ORCHARD_DEBUG");
  Deno.env.set("ORCHARD_DEBUG", "1");
  try {
    const denied = new Deno.errors.NotCapable(
      'Requires write access to "../out.csv", run again with the --allow-write flag',
    );
    const r = await capture({ ...spec, run: () => Promise.reject(denied) }, []);
    assert.equal(r.code, 2);
    assert.match(r.err[0], /^demo: permission denied: requires write access to "\.\.\/out\.csv"/);
    // then the error itself, which Deno's console prints with its stack (tests/permissions sees it)
    assert.equal(r.err.length, 2);
    assert.ok(r.err[1].includes("NotCapable"), r.err[1]);
  } finally {
    if (before === undefined) Deno.env.delete("ORCHARD_DEBUG");
    else Deno.env.set("ORCHARD_DEBUG", before);
  }
});

/** A task that declares --output as what it writes, and counts its runs. */
function outputTask() {
  let ran = 0;
  const task = defineTask({
    name: "out",
    description: "Writes --output.",
    options: { output: { type: "string", description: "a file" } },
    writes: (ctx) => [ctx.values.output && { path: ctx.values.output, source: "--output" }],
    run: () => ++ran,
  });
  return { task, runs: () => ran };
}

Deno.test("writes: an output that cannot be written fails before run, naming it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-task-writes-" });
  try {
    Deno.writeTextFileSync(`${dir}/afile`, "x");
    const { task, runs } = outputTask();
    const bad = await capture(task, ["--output", `${dir}/afile/sub/out.csv`]);
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.err, [`out: --output ${dir}/afile/sub/out.csv: ${dir}/afile is not a folder`]);
    assert.equal(runs(), 0, "run is not called");
    Deno.mkdirSync(`${dir}/folder`);
    const folder = await capture(task, ["--output", `${dir}/folder`]);
    assert.deepEqual([folder.code, folder.err], [2, [
      `out: --output ${dir}/folder: is a folder; name a file`,
    ]]);
    assert.equal(runs(), 0, "run is not called");
    const ok = await capture(task, ["--output", `${dir}/new/sub/out.csv`]);
    assert.deepEqual([ok.code, runs()], [0, 1]);
    assert.ok(!existsSync(`${dir}/new`), "the check creates nothing");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "checkWritable: a folder the OS will not let this user write is a permission error",
  ignore: Deno.build.os === "windows" || Deno.uid() === 0, // root writes anywhere
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "orchard-task-ro-" });
    try {
      Deno.chmodSync(dir, 0o555);
      assert.throws(
        () => checkWritable({ path: `${dir}/out/x.csv`, source: "--output" }),
        (e: Error) =>
          e instanceof PermissionError && e.message.includes(dir) && e.message.includes("--output"),
      );
      checkWritable({ path: Deno.makeTempDirSync(), dir: true });
    } finally {
      Deno.chmodSync(dir, 0o755);
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "writes: a read-only output folder (mount, ACL, or root's) fails before run, naming it, and leaves nothing",
  ignore: !canMakeReadOnly,
  async fn() {
    const ro = readOnlyFolder()!;
    try {
      const { task, runs } = outputTask();
      const bad = await capture(task, ["--output", `${ro.path}/sub/out.csv`]);
      assert.equal(bad.code, 2);
      assert.equal(bad.err.length, 1);
      assert.match(
        bad.err[0],
        new RegExp(`^out: --output ${ro.path}/sub/out.csv: .*${ro.path} is not writable`),
      );
      assert.equal(runs(), 0, "run is not called");
      assert.deepEqual([...Deno.readDirSync(ro.path)], [], "the probe leaves nothing");
    } finally {
      ro.release();
    }
  },
});

Deno.test("an option value that starts with '-' is one line saying how to write it", async () => {
  const task = defineTask({
    name: "serve",
    description: "Takes --port.",
    options: { port: { type: "string", description: "port" } },
    run: (ctx) => ctx.values.port,
  });
  const r = await capture(task, ["--port", "-1"]);
  assert.deepEqual([r.code, r.err], [2, [
    "serve: --port: its value starts with '-'; write it as --port=<value> (see --help)",
  ]]);
  assert.equal((await capture(task, ["--port=-1"])).code, 0);
});
