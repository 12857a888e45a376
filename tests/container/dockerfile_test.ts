/**
 * The Dockerfile, checked without a Docker engine (none runs here): the base
 * image is the official Deno image at the pinned version, dependencies get
 * their own layer, the user is not root, every COPY source exists and is not
 * excluded by .dockerignore; then the build's RUN steps as the app user and
 * the start command are run in a temporary directory laid out as the image's
 * /app would be (the COPY sources through .dockerignore, a fresh Deno dir),
 * and the HEALTHCHECK's own command must pass against the started service
 * and fail while nothing answers.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { championProject } from "../drift/_champion.ts";
import { freePort } from "../serve/launch_helpers.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Instruction {
  op: string;
  args: string;
  /** the JSON (exec) form's argv, when written so */
  argv?: string[];
}

/** Dockerfile instructions: comments dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (!pending && (/^\s*#/.test(line) || line.trim() === "")) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    const m = /^(\w+)\s+(.*)$/s.exec(full)!;
    const args = m[2].trim();
    const json = /^\[.*\]$/s.test(args.replace(/^.*?CMD\s+/s, ""))
      ? args.replace(/^.*?CMD\s+/s, "")
      : undefined;
    out.push({ op: m[1].toUpperCase(), args, ...(json ? { argv: JSON.parse(json) } : {}) });
  }
  return out;
}

/**
 * .dockerignore patterns as Docker reads them: relative to the context's root
 * (`models` is ./models, not src/models), `*` within a name, `**` across folders.
 */
function ignoreMatcher(text: string): (path: string) => boolean {
  const pats = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const res = pats.map((p) => {
    const body = p.replace(/^\/+|\/+$/g, "").split("/").map((part) =>
      part === "**" ? "(?:.*/)?" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*") + "/"
    ).join("").replace(/\/$/, "");
    return new RegExp(`^${body}(/|$)`);
  });
  return (path) => res.some((r) => r.test(path));
}

const dockerfile = parseDockerfile(Deno.readTextFileSync(join(ROOT, "Dockerfile")));
const ignored = ignoreMatcher(Deno.readTextFileSync(join(ROOT, ".dockerignore")));
const copies = dockerfile.filter((i) => i.op === "COPY").map((i) => {
  const parts = i.args.split(/\s+/).filter((p) => !p.startsWith("--"));
  return { sources: parts.slice(0, -1), dest: parts.at(-1)! };
});

Deno.test("Dockerfile: the pinned Deno image, a dependency layer, a non-root user, serve with a /ready healthcheck", () => {
  const from = dockerfile.find((i) => i.op === "FROM")!;
  const readme = Deno.readTextFileSync(join(ROOT, "README.md"));
  const pinned = /deno@(\d+\.\d+\.\d+)/.exec(readme)![1];
  assert.match(from.args, new RegExp(`^denoland/deno:(debian-)?${pinned.replace(/\./g, "\\.")}$`));
  // deno.json and deno.lock alone, then the install, before any code is copied
  assert.deepEqual(copies[0].sources, ["deno.json", "deno.lock"]);
  const ops = dockerfile.map((i) => `${i.op} ${i.args}`);
  const install = ops.findIndex((o) => /^RUN deno install/.test(o));
  const firstCode = ops.findIndex((o, k) => k > 0 && /^COPY/.test(o) && !o.includes("deno.lock"));
  assert.ok(install > 0 && install < firstCode, "the install layer comes before the code");
  const user = dockerfile.filter((i) => i.op === "USER").at(-1)!;
  assert.ok(!["root", "0"].includes(user.args.split(":")[0]), `USER ${user.args}`);
  assert.deepEqual(dockerfile.find((i) => i.op === "CMD")!.argv, ["deno", "task", "serve"]);
  const health = dockerfile.find((i) => i.op === "HEALTHCHECK")!;
  assert.match(health.argv!.join(" "), /\/ready/);
});

Deno.test("Dockerfile: every COPY source exists and is not excluded by .dockerignore", () => {
  assert.ok(copies.length >= 2);
  for (const c of copies) {
    for (const s of c.sources) {
      assert.ok(Deno.statSync(join(ROOT, s)), s);
      assert.ok(!ignored(s.replace(/\/$/, "")), `${s} is excluded by .dockerignore`);
    }
  }
  // what a build context must never carry
  for (const p of [".git", "node_modules", "models", "data", "reports"]) assert.ok(ignored(p), p);
  // patterns are anchored at the context's root: the code's own models/ and data/ folders go in
  assert.ok(!ignored("src/models") && !ignored("src/data"));
  assert.ok(ignored("src/x.ts.tmp-1"), "**/ patterns reach into folders");
});

/** Copies `src` (a file or folder of the repo) to `dest`, leaving out what .dockerignore excludes. */
function copyContext(src: string, dest: string): void {
  const rel = relative(ROOT, src);
  if (ignored(rel)) return;
  const info = Deno.statSync(src);
  if (info.isDirectory) {
    Deno.mkdirSync(dest, { recursive: true });
    for (const e of Deno.readDirSync(src)) copyContext(join(src, e.name), join(dest, e.name));
  } else Deno.copyFileSync(src, dest);
}

async function waitReady(port: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(async (r) => (await r.body?.cancel(), r.ok))
      .catch(() => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

Deno.test({
  name:
    "Dockerfile: its install and start commands run in a temp dir as the image would; /ready and HEALTHCHECK",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const tmp = Deno.makeTempDirSync({ prefix: "orchard-image-" });
    const app = join(tmp, "app");
    Deno.mkdirSync(app);
    try {
      // the layers' files, through .dockerignore
      for (const c of copies) {
        for (const s of c.sources) {
          const to = c.dest.endsWith("/") && c.dest !== "./" ? join(app, c.dest) : join(app, s);
          copyContext(join(ROOT, s), to);
        }
      }
      // ENV as the image sets it; the Deno dir fresh, as in a first build
      const env: Record<string, string> = {};
      for (const i of dockerfile.filter((i) => i.op === "ENV")) {
        for (const m of i.args.matchAll(/(\w+)=(\S+)/g)) env[m[1]] = m[2];
      }
      env.DENO_DIR = join(tmp, "deno-dir");
      // this machine's environment (its network's CA settings) under the image's ENV
      const base = { ...Deno.env.toObject(), HOME: tmp, ...env };
      // the RUN steps after USER run as the app user in /app (those before set up the image as root)
      const userAt = dockerfile.findIndex((i) => i.op === "USER");
      const runSteps = dockerfile.slice(userAt).filter((i) => i.op === "RUN").map((i) => i.args);
      assert.ok(runSteps.some((r) => /^deno install/.test(r)));
      for (const cmd of runSteps) {
        const out = await new Deno.Command("sh", { args: ["-c", cmd], cwd: app, env: base, clearEnv: true })
          .output();
        const err = new TextDecoder().decode(out.stderr).split("\n").slice(-15).join("\n");
        assert.equal(out.code, 0, `RUN ${cmd}\n${err}`);
      }
      assert.ok(Deno.statSync(join(app, "node_modules")).isDirectory, "deno install laid out node_modules");

      // a mounted models/ volume with a registered @champion (the default MODEL_URI)
      await championProject(app);
      const health = dockerfile.find((i) => i.op === "HEALTHCHECK")!.argv!;
      const port = freePort();
      const runEnv = { ...base, PORT: String(port) };
      const healthcheck = () =>
        new Deno.Command(health[0], { args: health.slice(1), cwd: app, env: runEnv, clearEnv: true })
          .output();
      assert.notEqual((await healthcheck()).code, 0, "nothing listens yet: the healthcheck fails");

      const cmd = dockerfile.find((i) => i.op === "CMD")!.argv!;
      const child = new Deno.Command(cmd[0], {
        args: cmd.slice(1),
        cwd: app,
        env: runEnv,
        clearEnv: true,
        stdout: "null",
        stderr: "piped",
      }).spawn();
      try {
        const ready = await waitReady(port, 60_000);
        assert.ok(ready, "deno task serve answered /ready with 200 within 60 s");
        const h = await healthcheck();
        assert.equal(h.code, 0, new TextDecoder().decode(h.stderr));
      } finally {
        child.kill("SIGTERM");
        await child.stderr.cancel().catch(() => {});
        await child.status;
      }
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});
