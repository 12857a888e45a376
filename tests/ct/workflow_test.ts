/**
 * The workflow template, .github/workflows/ct.yml: its shape (triggers, the
 * steps a team relies on), then every job's `run:` steps in order, each job
 * in its own fresh `git clone` of this repository (committed files only, as a
 * runner checks out), skipping only what needs GitHub: `uses:` actions and
 * the `gh` comment. The Tests step runs a small subset (ORCHARD_TEST_PATHS,
 * as a repository variable would set it) so this test stays within a few
 * minutes; every other command is the workflow's own.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { type Job, runJob, type Step } from "./_actions.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WORKFLOW = join(ROOT, ".github", "workflows", "ct.yml");
/** The Tests step's subset here (the whole suite is what `.ci/run` runs). */
const TEST_SUBSET = "tests/core/format_test.ts tests/ct/compare_test.ts";

interface Workflow {
  on: Record<string, unknown>;
  env: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = parse(Deno.readTextFileSync(WORKFLOW)) as Workflow;
const runs = (job: Job) => job.steps.filter((s) => s.run).map((s) => s.run!);
const needsGitHub = (s: Step) => /^\s*gh\s/m.test(s.run ?? "");

Deno.test("workflow: triggers, Deno from npm, cache, checks, tests, ct, upload, PR comment; nightly drift -> ct", () => {
  assert.deepEqual(Object.keys(workflow.on).sort(), [
    "pull_request",
    "push",
    "schedule",
    "workflow_dispatch",
  ]);
  assert.match(String((workflow.on.schedule as { cron: string }[])[0].cron), /^\S+ \S+ \* \* \*$/);
  assert.equal(workflow.env.DENO_VERSION, "2.9.6");
  const ct = workflow.jobs.ct;
  const uses = ct.steps.filter((s) => s.uses).map((s) => s.uses!.split("@")[0]);
  assert.deepEqual(uses, [
    "actions/checkout",
    "actions/setup-node",
    "actions/cache",
    "actions/upload-artifact",
  ]);
  const cache = ct.steps.find((s) => s.uses?.startsWith("actions/cache"))!;
  assert.equal(cache.with!.path, "~/.cache/deno");
  assert.match(String(cache.with!.key), /hashFiles\('deno\.lock'\)/);
  const r = runs(ct);
  assert.match(r[0], /npm install .*deno@\$DENO_VERSION/);
  assert.ok(r.findIndex((x) => /deno task check/.test(x)) < r.findIndex((x) => /tasks\/test\.ts/.test(x)));
  assert.ok(r.findIndex((x) => /tasks\/test\.ts/.test(x)) < r.findIndex((x) => /deno task ct/.test(x)));
  const comment = ct.steps.find(needsGitHub)!;
  assert.match(comment.run!, /gh pr comment .* --body-file/);
  assert.match(comment.if!, /pull_request/);
  assert.match(comment.if!, /GH_TOKEN/);
  assert.equal(ct.steps.filter(needsGitHub).length, 1, "only the comment needs GitHub");

  const nightly = workflow.jobs.nightly;
  const n = runs(nightly);
  assert.ok(n.some((x) => /deno task drift --fail-on-drift/.test(x)));
  const retrain = nightly.steps.find((s) => s.run?.trim() === "deno task ct")!;
  assert.match(retrain.if!, /steps\.drift\.outputs\.code == '1'/);
});

/** A fresh clone of the committed repository in a temp dir. */
async function freshClone(tmp: string): Promise<string> {
  const dir = join(tmp, "repo");
  const out = await new Deno.Command("git", { args: ["clone", "--quiet", ROOT, dir], stderr: "piped" })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return dir;
}

const baseEnv = () => {
  const env = Deno.env.toObject();
  for (const k of Object.keys(env)) if (/^(GITHUB_|RUNNER_)/.test(k)) delete env[k];
  return env;
};

Deno.test({
  name: "workflow: the ct job's run steps pass in a fresh clone (pull_request)",
  sanitizeResources: false,
  fn: async () => {
    const tmp = Deno.makeTempDirSync({ prefix: "orchard-wf-" });
    try {
      const cwd = await freshClone(tmp);
      const { log, ctx } = await runJob(workflow.jobs.ct, {
        cwd,
        runnerTemp: join(tmp, "runner"),
        workflowEnv: workflow.env,
        github: { event_name: "pull_request", event: { pull_request: { number: 1 } } },
        vars: { ORCHARD_TEST_PATHS: TEST_SUBSET },
        baseEnv: baseEnv(),
        needsGitHub,
      });
      const ran = log.filter((l) => l.status === "ran").map((l) => l.step);
      assert.deepEqual(ran, [
        "Set up Deno from npm",
        "Static checks (fmt, lint, type check)",
        "Tests",
        "Continuous training",
      ]);
      // without a token the comment is skipped by its own condition
      assert.equal(log.at(-1)!.status, "skipped: if");
      const report = ctx.steps.ct.outputs.report;
      assert.match(report, /^reports\/ct\/[0-9a-f]{32}\/report\.md$/);
      const md = Deno.readTextFileSync(join(cwd, report));
      // a fresh clone has no store: the candidate is compared with nothing
      assert.match(md, /\*\*No champion\*\*/);
      assert.match(md, /Pipeline: ran `deno task pipeline:features`/);
      console.log(
        log.map((l) => `${l.status.padEnd(22)} ${l.step}${l.seconds ? ` ${l.seconds.toFixed(1)} s` : ""}`)
          .join("\n"),
      );
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "workflow: the nightly job's run steps pass in a fresh clone (schedule): drift found, ct ran",
  sanitizeResources: false,
  fn: async () => {
    const tmp = Deno.makeTempDirSync({ prefix: "orchard-wf-" });
    try {
      const cwd = await freshClone(tmp);
      const { log, ctx } = await runJob(workflow.jobs.nightly, {
        cwd,
        runnerTemp: join(tmp, "runner"),
        workflowEnv: workflow.env,
        github: { event_name: "schedule" },
        baseEnv: baseEnv(),
        needsGitHub,
      });
      // the example's drift batch drifts by construction, so the retrain step runs
      assert.equal(ctx.steps.drift.outputs.code, "1");
      assert.equal(log.find((l) => l.step === "Retrain on drift")?.status, "ran");
      const reports = [...Deno.readDirSync(join(cwd, "reports", "ct"))];
      assert.equal(reports.length, 1);
      const md = Deno.readTextFileSync(join(cwd, "reports", "ct", reports[0].name, "report.md"));
      assert.match(md, /vs champion v1/);
      console.log(
        log.map((l) => `${l.status.padEnd(22)} ${l.step}${l.seconds ? ` ${l.seconds.toFixed(1)} s` : ""}`)
          .join("\n"),
      );
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});
