/**
 * Whether one model can follow another under the same name (issue 12, defect
 * 4): a registered version and a hot swap in the service both keep what the
 * model's callers rely on. Another task kind (binary, multiclass,
 * regression), another target or another class set is another model, never a
 * new version of this one. A change of the input signature (columns added,
 * removed, retyped or reordered) is the same model asking callers for other
 * inputs: the registry takes it only when asked to (--allow-schema-change),
 * and a running service never swaps to it (a restart serves it).
 *
 * The comparison is pure, on ModelShape: what an artifact's manifest
 * (artifact.json: task, classes) and signature (signature.json: target,
 * inputs) say, or a loaded model's signature. readArtifactShape is the one
 * function here that reads files.
 */
import { join } from "node:path";
import { UserError } from "../core/errors.ts";
import { describeFsError } from "../core/fs_errors.ts";

export type TaskKind = "binary" | "multiclass" | "regression";
type Label = string | number | boolean;

export interface ModelShape {
  task: TaskKind;
  target: string;
  /** a classifier's labels (empty for regression) */
  classes: Label[];
  /** the input columns in signature order */
  inputs: { name: string; kind: string }[];
}

export interface SchemaChange {
  added: string[];
  removed: string[];
  retyped: { name: string; from: string; to: string }[];
  /** the same columns in another order (rows sent as arrays are read in signature order) */
  reordered: boolean;
}

export interface Compatibility {
  /** what makes the next one another model: "the target from 'churned' to 'churn'", ... */
  differences: string[];
  /** the input signature's change, or null when the inputs are the same */
  schema: SchemaChange | null;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function taskKind(task: unknown, classes: readonly unknown[]): TaskKind {
  if (task === "regression") return "regression";
  return classes.length > 2 ? "multiclass" : "binary";
}

function inputsOf(signature: Record<string, unknown>): ModelShape["inputs"] {
  const inputs = Array.isArray(signature.inputs) ? signature.inputs : [];
  return inputs.filter(isObject).map((c) => ({ name: String(c.name), kind: String(c.kind) }));
}

/**
 * The shape of a saved artifact from its parsed artifact.json and
 * signature.json; null when the manifest is not an Orchard model's (there is
 * then nothing to compare with).
 */
export function shapeFromArtifact(manifest: unknown, signature: unknown): ModelShape | null {
  if (!isObject(manifest) || manifest.format !== "orchard-model" || !isObject(signature)) return null;
  const target = isObject(signature.target) ? signature.target : {};
  const classes = Array.isArray(manifest.classes) ? manifest.classes as Label[] : [];
  return {
    task: taskKind(manifest.task, classes),
    target: String(target.name ?? ""),
    classes: manifest.task === "regression" ? [] : classes,
    inputs: inputsOf(signature),
  };
}

/** The shape of a loaded model: its signature, and its classes when it lists them apart. */
export function shapeFromSignature(
  signature: { inputs?: unknown; target?: unknown },
  classes?: readonly Label[],
): ModelShape {
  const target = isObject(signature.target) ? signature.target : {};
  const labels = [...(classes ?? (Array.isArray(target.classes) ? target.classes as Label[] : []))];
  return {
    task: taskKind(target.kind, labels),
    target: String(target.name ?? ""),
    classes: target.kind === "regression" ? [] : labels,
    inputs: inputsOf(signature as Record<string, unknown>),
  };
}

/** A label with its type, so 1 and "1" are different classes (they answer differently). */
const labelKey = (l: Label) => `${typeof l}:${String(l)}`;
const showLabels = (ls: Label[]) =>
  JSON.stringify([...ls].sort((a, b) => labelKey(a) < labelKey(b) ? -1 : labelKey(a) > labelKey(b) ? 1 : 0));

function sameClasses(a: Label[], b: Label[]): boolean {
  const ka = new Set(a.map(labelKey)), kb = new Set(b.map(labelKey));
  return ka.size === kb.size && [...ka].every((k) => kb.has(k));
}

/** How the input signature changed from `before` to `after`, or null when it did not. */
export function schemaChange(before: ModelShape["inputs"], after: ModelShape["inputs"]): SchemaChange | null {
  const old = new Map(before.map((c) => [c.name, c.kind]));
  const next = new Map(after.map((c) => [c.name, c.kind]));
  const added = after.filter((c) => !old.has(c.name)).map((c) => c.name);
  const removed = before.filter((c) => !next.has(c.name)).map((c) => c.name);
  const retyped = after.filter((c) => old.has(c.name) && old.get(c.name) !== c.kind)
    .map((c) => ({ name: c.name, from: old.get(c.name)!, to: c.kind }));
  const kept = (cols: ModelShape["inputs"], other: Map<string, string>) =>
    cols.filter((c) => other.has(c.name)).map((c) => c.name).join("\n");
  const reordered = kept(before, next) !== kept(after, old);
  if (!added.length && !removed.length && !retyped.length && !reordered) return null;
  return { added, removed, retyped, reordered };
}

/** Compares the next model with the one it would follow. */
export function compareShapes(current: ModelShape, next: ModelShape): Compatibility {
  const differences: string[] = [];
  if (current.task !== next.task) differences.push(`the task from '${current.task}' to '${next.task}'`);
  if (current.target !== next.target) {
    differences.push(`the target from '${current.target}' to '${next.target}'`);
  }
  if (current.task === next.task && !sameClasses(current.classes, next.classes)) {
    differences.push(`the classes from ${showLabels(current.classes)} to ${showLabels(next.classes)}`);
  }
  return { differences, schema: schemaChange(current.inputs, next.inputs) };
}

/** At most `max` names, then how many more. */
function names(list: string[], max = 8): string {
  return list.length <= max
    ? list.join(", ")
    : `${list.slice(0, max).join(", ")} and ${list.length - max} more`;
}

/** "added region; removed signup; retyped tenure numeric -> categorical" */
export function describeSchemaChange(c: SchemaChange): string {
  const parts: string[] = [];
  if (c.added.length) parts.push(`added ${names(c.added)}`);
  if (c.removed.length) parts.push(`removed ${names(c.removed)}`);
  if (c.retyped.length) {
    parts.push(`retyped ${names(c.retyped.map((r) => `${r.name} ${r.from} -> ${r.to}`), 4)}`);
  }
  if (c.reordered) parts.push("reordered columns");
  return parts.join("; ");
}

/** "a, b and c" */
function andList(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/**
 * Why `version` of `name` cannot be registered after the latest version, or
 * null when it can (a schema change is allowed with `allowSchemaChange`).
 */
export function versionFitError(
  name: string,
  version: number,
  c: Compatibility,
  allowSchemaChange = false,
): string | null {
  if (c.differences.length) {
    const inputs = c.schema ? ` (its inputs differ too: ${describeSchemaChange(c.schema)})` : "";
    return `${name}: version ${version} would change ${
      andList(c.differences)
    }; register it under another name${inputs}`;
  }
  if (c.schema && !allowSchemaChange) {
    return `${name}: version ${version} would change the input signature (${
      describeSchemaChange(c.schema)
    }); update its callers, then register it with --allow-schema-change`;
  }
  return null;
}

/**
 * Why a running service must not swap from the version it serves to `next`
 * (anything its callers would notice: task, target, classes, inputs), or null.
 */
export function swapRefusal(served: ModelShape, next: ModelShape): string | null {
  const c = compareShapes(served, next);
  const what = [...c.differences];
  if (c.schema) what.push(`the input signature (${describeSchemaChange(c.schema)})`);
  return what.length ? `it would change ${andList(what)}` : null;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new UserError(describeFsError(e, path, "read"));
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The shape of the artifact directory `dir`, or null when it holds no Orchard model manifest. */
export function readArtifactShape(dir: string): ModelShape | null {
  const manifest = readJson(join(dir, "artifact.json"));
  if (!isObject(manifest) || manifest.format !== "orchard-model") return null;
  return shapeFromArtifact(manifest, readJson(join(dir, "signature.json")));
}

/**
 * The registry's check, under its lock and before the copy: may the artifact
 * in `sourceDir` become `version` of `name`, whose latest version lives in
 * `latestDir`? Throws the one-line UserError when not; returns the input
 * signature's change (allowed by `allowSchemaChange`) or null. When the latest
 * version holds no Orchard model manifest there is nothing to compare with.
 */
export function checkNextVersion(
  name: string,
  version: number,
  latestDir: string,
  sourceDir: string,
  allowSchemaChange = false,
): SchemaChange | null {
  const current = readArtifactShape(latestDir);
  if (current === null) return null;
  const next = readArtifactShape(sourceDir);
  if (next === null) {
    throw new UserError(
      `${name}: version ${version} would not be a model artifact (${sourceDir} has no Orchard artifact.json), ` +
        `while version ${version - 1} is; register it under another name`,
    );
  }
  const c = compareShapes(current, next);
  const error = versionFitError(name, version, c, allowSchemaChange);
  if (error) throw new UserError(error);
  return c.schema;
}
