/**
 * Shared by the UI tests: a config whose paths point into a temp folder, a
 * store seeded through the tracking API (with XSS payloads in names, params
 * and tags, and a parent with children), and a fetch helper for the app.
 */
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { TrackingStore } from "../../src/tracking/store.ts";
import { DENO_JSON, denoRunTasks, repo } from "../permissions/_project.ts";

export const XSS_NAME = `<script>window.__xss=1</script>`;
export const XSS_ATTR = `"><img src=x onerror="window.__xss=2">`;

export function testConfig(root: string, location: string, extra: string[] = []): Config {
  Deno.writeTextFileSync(`${root}/params.yaml`, "{}\n");
  return loadConfig({
    path: `${root}/params.yaml`,
    sets: [
      `tracking.store=${location}`,
      `paths.models=${root}/models`,
      `paths.reports=${root}/reports`,
      `paths.monitoring=${root}/data/monitoring`,
      `paths.predictions=${root}/data/predictions`,
      ...extra,
    ],
  });
}

/** Runs: a parent with two children, a payload run, and `n` plain runs with metrics and params. */
export async function seedRuns(
  location: string,
  n = 6,
): Promise<{ parent: string; children: string[]; xss: string; plain: string[] }> {
  const store = await TrackingStore.open(location);
  try {
    const plain: string[] = [];
    for (let i = 0; i < n; i++) {
      const { runId } = await store.startRun({ experiment: "exp", runName: `plain-${i}` });
      await store.logParams(runId, { max_depth: 2 + i, algorithm: i % 2 ? "forest" : "boosting" });
      for (let s = 0; s < 3; s++) await store.logMetrics(runId, { roc_auc: 0.6 + i * 0.05 + s * 0.001 }, s);
      await store.logMetrics(runId, { f1: 0.5 + i * 0.03 });
      await store.endRun(runId);
      plain.push(runId);
    }
    const { runId: parent } = await store.startRun({ experiment: "exp", runName: "tune-parent" });
    await store.logMetrics(parent, { roc_auc: 0.5 });
    const children: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { runId } = await store.startRun({
        experiment: "exp",
        runName: `trial-${i}`,
        parentRunId: parent,
      });
      await store.logParams(runId, { max_depth: 10 + i });
      await store.logMetrics(runId, { roc_auc: 0.95 + i * 0.01 });
      await store.endRun(runId);
      children.push(runId);
    }
    await store.endRun(parent);
    const { runId: xss } = await store.startRun({
      experiment: "exp",
      runName: XSS_NAME,
      tags: { [XSS_ATTR]: XSS_NAME },
    });
    await store.logParams(xss, { [XSS_NAME]: XSS_ATTR, note: XSS_ATTR });
    await store.logMetrics(xss, { roc_auc: 0.7 });
    await store.endRun(xss);
    return { parent, children, xss, plain };
  } finally {
    await store.close();
  }
}

/** Starts `deno task ui` (its deno.json flags) in `cwd`; resolves with its URL once it listens. */
export async function startUiProcess(
  cwd: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ url: string; stop(): Promise<void>; stderr(): string }> {
  const task = denoRunTasks().ui;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", DENO_JSON, ...task.flags, repo(task.script), "--port", "0", ...args],
    cwd,
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1", ORCHARD_DEBUG: "", ...env },
  }).spawn();
  let text = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ui did not start:\n${text}`)), 60_000);
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        const m = / on (http:\/\/[^\s]+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      }
      clearTimeout(timer);
      reject(new Error(`ui exited:\n${text}`));
    })().catch(() => {});
  });
  // keep draining stderr so the child never blocks on a full pipe
  (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      text += value;
    }
  })();
  return {
    url,
    stderr: () => text,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
    },
  };
}
