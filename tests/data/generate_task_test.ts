/** `deno task data:generate` as its entry point runs it: flags, its output folder, and a killed run's leftovers. */
import assert from "node:assert/strict";
import { executeTask } from "../../src/cli/task.ts";
import { spec } from "../../tasks/generate.ts";

async function capture(argv: string[]) {
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = () => {};
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await executeTask(spec, argv), err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("data:generate: a file, an empty --out or an absurd --months is one line and exit 2, before any work", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-gen-task-" });
  try {
    Deno.writeTextFileSync(`${dir}/customers.csv`, "keep");
    const cases: [string[], RegExp][] = [
      [
        ["--customers", "20", "--out", `${dir}/customers.csv`],
        /^data:generate: --out .*customers\.csv: .*customers\.csv is not a folder$/,
      ],
      [["--customers", "20", "--out="], /^data:generate: --out: expected a folder$/],
      [
        ["--out", dir, "--months=100000"],
        /^data:generate: --months 100000: expected an integer >= 1 and <= 600$/,
      ],
      [["--out", dir, "--customers="], /^data:generate: --customers : expected an integer >= 1$/],
    ];
    for (const [argv, line] of cases) {
      const r = await capture(argv);
      assert.equal(r.code, 2, argv.join(" "));
      assert.equal(r.err.length, 1, r.err.join("\n"));
      assert.match(r.err[0], line);
    }
    assert.equal(Deno.readTextFileSync(`${dir}/customers.csv`), "keep");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("data:generate: the next run removes a killed run's temp files and their marks from its folder", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-gen-task-" });
  try {
    // what a kill -9 mid-write leaves: the half file and its (no longer held) mark
    Deno.writeTextFileSync(`${dir}/transactions.json.tmp-999999-abc`, "[{");
    Deno.writeTextFileSync(`${dir}/transactions.json.tmp-999999-abc.lock`, "");
    const r = await capture(["--customers", "20", "--out", dir]);
    assert.equal(r.code, 0, r.err.join("\n"));
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names.filter((n) => n.includes(".tmp-")), []);
    assert.ok(names.includes("transactions.json"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
