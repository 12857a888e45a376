/**
 * docs/library.md works as written: every `sh` block on the page runs in order
 * from the repo root (the consumer project goes to a temp dir outside the repo),
 * the program prints what the page says, the predict task scores its model, and
 * the serve block serves it to the curl block.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const PAGE = join(ROOT, "docs", "library.md");

/** The fenced blocks of a Markdown page with the given info string, in order. */
export function fencedBlocks(markdown: string, lang: string): string[] {
  const out: string[] = [];
  const re = new RegExp("^```" + lang + "\\n([\\s\\S]*?)^```$", "gm");
  for (const m of markdown.matchAll(re)) out.push(m[1]);
  return out;
}

const dec = new TextDecoder();

async function bash(script: string, env: Record<string, string>) {
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("fencedBlocks finds each block of the language, in order", () => {
  const md = "a\n```sh\necho 1\n```\n```ts\nx\n```\n```sh\necho 2\necho 3\n```\n";
  assert.deepEqual(fencedBlocks(md, "sh"), ["echo 1\n", "echo 2\necho 3\n"]);
});

Deno.test({
  name: "docs/library.md: the consumer project, predict and serve commands work as written",
  sanitizeResources: false,
  async fn() {
    const page = Deno.readTextFileSync(PAGE);
    const blocks = fencedBlocks(page, "sh");
    const serveAt = blocks.findIndex((b) => b.trimStart().startsWith("deno task serve"));
    assert.ok(serveAt > 0, "the page has a serve block");
    assert.equal(blocks.length, serveAt + 2, "setup and predict blocks, then serve, then curl");
    const tmp = await Deno.makeTempDir({ prefix: "orchard-docs-" });
    const scored = join(ROOT, "data", "predictions", "library_example.csv");
    const env = {
      TMPDIR: tmp, // the page's `mktemp -d`
      PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`,
      HOME: Deno.env.get("HOME") ?? tmp,
      NO_COLOR: "1",
    };
    let server: Deno.ChildProcess | undefined;
    try {
      // everything before the server, as one script: exports and cd carry over from block to block
      const setup = await bash(
        ["set -euo pipefail", ...blocks.slice(0, serveAt), 'echo "APP=$APP"'].join("\n"),
        env,
      );
      assert.equal(setup.code, 0, setup.stderr);
      const app = setup.stdout.match(/^APP=(.*)$/m)![1];
      assert.ok(app.startsWith(tmp + "/"), "the consumer project lives outside the repo");
      // the program's output is the page's
      const printed = fencedBlocks(page, "text")[0].trim().split("\n");
      for (const line of printed) assert.ok(setup.stdout.includes(line), `prints ${line}\n${setup.stdout}`);
      assert.match(setup.stdout + setup.stderr, /predict: 100 rows scored with churn_model version local/);
      const csv = Deno.readTextFileSync(scored).trim().split("\n");
      assert.equal(csv.length, 101);
      assert.match(csv[0], /prediction,probability_no,probability_yes$/);

      // the serve block, with the variables the page exported; the curl block from "another shell"
      const serveEnv = { ...env, ORCHARD: ROOT, APP: app };
      server = new Deno.Command("bash", {
        args: ["-c", `exec ${blocks[serveAt].trim()}`],
        cwd: ROOT,
        env: serveEnv,
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let reply = "";
      for (let i = 0; i < 100 && !reply.includes("predictions"); i++) {
        await new Promise((r) => setTimeout(r, 200));
        reply = (await bash(blocks[serveAt + 1], env)).stdout;
      }
      const body = JSON.parse(reply);
      assert.equal(body.model, "churn_model");
      assert.equal(body.predictions[0].prediction, "yes");
      const shown = JSON.parse(fencedBlocks(page, "text")[1]);
      // the request id is each answer's own (a new UUID when the caller sends none)
      assert.match(body.request_id, /^[0-9a-f-]{36}$/);
      assert.match(shown.request_id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(
        { ...body, request_id: "" },
        { ...shown, request_id: "" },
        "the page shows the service's answer",
      );
    } finally {
      if (server) {
        try {
          server.kill("SIGTERM");
        } catch { /* already gone */ }
        await server.stderr.cancel();
        await server.status;
      }
      try {
        Deno.removeSync(scored);
      } catch { /* not written */ }
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
