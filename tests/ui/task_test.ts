/**
 * `deno task ui` as a process with its deno.json permissions: a bad flag, a
 * port in use and an unreachable store are each one line and exit 2; a good
 * start says where it listens and answers pages.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runTask } from "../permissions/_project.ts";
import { startUiProcess } from "./_support.ts";

function oneLine(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
  assert.ok(!stderr.includes("    at "), `no stack:\n${stderr}`);
  assert.ok(lines[0].startsWith("ui: "), lines[0]);
  return lines[0];
}

function project(): string {
  const dir = Deno.makeTempDirSync({ prefix: "orchard-ui-task-" });
  Deno.writeTextFileSync(join(dir, "params.yaml"), "{}\n");
  return dir;
}

Deno.test("ui: a bad flag or value is one line, exit 2", async () => {
  const dir = project();
  try {
    for (const args of [["--nope"], ["--port", "http"], ["--port", "70000"], ["--service", "not a url"]]) {
      const r = await runTask(dir, "ui", args);
      assert.equal(r.code, 2, `${args}: ${r.stderr}`);
      oneLine(r.stderr);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ui: an unreachable PostgreSQL store is one line, exit 2", async () => {
  const dir = project();
  try {
    const r = await runTask(dir, "ui", ["--port", "0"], {
      ORCHARD_TRACKING_URI: "postgresql://nobody:none@127.0.0.1:9/none",
      PGCONNECT_TIMEOUT: "2",
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /postgresql:.*(cannot connect|cannot open)/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ui: a port in use is one line, exit 2", async () => {
  const dir = project();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const r = await runTask(dir, "ui", ["--port", String(port)]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), new RegExp(`127\\.0\\.0\\.1:${port} is in use`));
  } finally {
    listener.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ui: starts on a free port and answers every page", async () => {
  const dir = project();
  const ui = await startUiProcess(dir);
  try {
    for (const path of ["/", "/runs", "/models", "/monitoring", "/login"]) {
      const r = await fetch(ui.url + path);
      assert.equal(r.status, 200, path);
      assert.match(await r.text(), /<h1>/);
    }
    assert.match(ui.stderr(), /\(read-only\)/);
  } finally {
    await ui.stop();
    Deno.removeSync(dir, { recursive: true });
  }
});
