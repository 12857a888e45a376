/**
 * The pipeline stages' state for the status page, from what deno.json
 * declares: each `pipeline:*` task's `files` (inputs, globs) and `output`.
 * Deno's task cache keeps its own record of the inputs' content, which is
 * not ours to read, so the state here is judged by file times: a stage with
 * an output missing has never run (or its output was removed); one with an
 * input modified after its oldest output is stale (deno task would run it
 * again, unless the edit left the content as it was); otherwise it is up to
 * date (deno task would skip it). A stage without declared files runs every
 * time. The page says that this is what the state is based on.
 */
import { join, normalize } from "node:path";

export type StageState = "never run" | "stale" | "up to date" | "not cached";

export interface StageStatus {
  task: string;
  description?: string;
  state: StageState;
  /** the newest output's mtime (ms): when the stage last wrote */
  lastRun: number | null;
  /** input files matched by the `files` globs */
  inputs: number;
  outputs: string[];
  missingOutputs: string[];
  /** inputs modified after the oldest output (at most 5 named) */
  newerInputs: string[];
  /** plain (glob-free) inputs that do not exist */
  missingInputs: string[];
}

interface TaskDef {
  description?: string;
  dependencies?: string[];
  files?: string[];
  output?: string[];
}

function mtimeOf(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

function segmentRegex(segment: string): RegExp {
  return new RegExp(
    "^" + segment.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^/]*").replaceAll("?", "[^/]") + "$",
  );
}

/** The files under `root` a deno.json `files` glob names (relative paths; `*` within a name, `**` every file below: what follows a `**` is not matched further, and the repo's globs end with it). */
export function globFiles(root: string, pattern: string): string[] {
  const clean = normalize(pattern).replace(/^\.\//, "");
  if (clean.startsWith("..") || clean.startsWith("/")) return [];
  const parts = clean.split("/").filter(Boolean);
  const out: string[] = [];
  const walk = (rel: string, i: number) => {
    const abs = rel ? join(root, rel) : root;
    if (i === parts.length) {
      try {
        const info = Deno.statSync(abs);
        if (info.isFile) out.push(rel);
        else if (info.isDirectory) walk(rel, parts.length + 1); // a folder named as is: all of it
      } catch { /* missing */ }
      return;
    }
    const all = i > parts.length; // below a matched folder or a **: every file
    const part = parts[i];
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(abs)];
    } catch {
      return;
    }
    if (!all && part !== "**" && !/[*?]/.test(part)) {
      walk(rel ? `${rel}/${part}` : part, i + 1);
      return;
    }
    const re = all || part === "**" ? undefined : segmentRegex(part);
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (all || part === "**") {
        if (e.isFile) out.push(child);
        else if (e.isDirectory) walk(child, parts.length + 1);
      } else if (re!.test(e.name)) {
        if (i === parts.length - 1) {
          if (e.isFile) out.push(child);
        } else if (e.isDirectory) walk(child, i + 1);
      }
    }
  };
  walk("", 0);
  return out;
}

function readTasks(root: string): Record<string, TaskDef> {
  try {
    const json = JSON.parse(Deno.readTextFileSync(join(root, "deno.json")));
    return typeof json?.tasks === "object" && json.tasks ? json.tasks : {};
  } catch {
    return {};
  }
}

/** The `pipeline:*` stages of the project at `root`, in dependency order, each with its state. */
export function pipelineStages(root: string): StageStatus[] {
  const tasks = readTasks(root);
  const names = Object.keys(tasks).filter((n) => n.startsWith("pipeline:") && typeof tasks[n] === "object");
  const ordered: string[] = [];
  const visit = (n: string, depth = 0) => {
    if (ordered.includes(n) || depth > 50 || !names.includes(n)) return;
    for (const d of tasks[n].dependencies ?? []) visit(d, depth + 1);
    if (!ordered.includes(n)) ordered.push(n);
  };
  for (const n of names) visit(n);
  return ordered.map((task) => stageStatus(root, task, tasks[task]));
}

function stageStatus(root: string, task: string, def: TaskDef): StageStatus {
  const outputs = Array.isArray(def.output) ? def.output.filter((o) => typeof o === "string") : [];
  const files = Array.isArray(def.files) ? def.files.filter((f) => typeof f === "string") : [];
  const outTimes = outputs.map((o) => mtimeOf(join(root, o)));
  const missingOutputs = outputs.filter((_, i) => outTimes[i] === null);
  const present = outTimes.filter((t): t is number => t !== null);
  const lastRun = present.length ? Math.max(...present) : null;
  const base = {
    task,
    description: def.description,
    lastRun,
    outputs,
    missingOutputs,
    newerInputs: [] as string[],
    missingInputs: [] as string[],
    inputs: 0,
  };
  if (files.length === 0 || outputs.length === 0) return { ...base, state: "not cached" };
  const inputs = [...new Set(files.flatMap((f) => globFiles(root, f)))];
  const missingInputs = files.filter((f) => !/[*?]/.test(f) && mtimeOf(join(root, f)) === null);
  if (missingOutputs.length) return { ...base, inputs: inputs.length, missingInputs, state: "never run" };
  const oldestOutput = Math.min(...present);
  const newer = inputs
    .map((f) => ({ f, t: mtimeOf(join(root, f)) ?? 0 }))
    .filter((x) => x.t > oldestOutput)
    .sort((a, b) => b.t - a.t)
    .map((x) => x.f);
  return {
    ...base,
    inputs: inputs.length,
    missingInputs,
    newerInputs: newer.slice(0, 5),
    state: newer.length ? "stale" : "up to date",
  };
}
