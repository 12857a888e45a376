/**
 * Loads params.yaml, applies `--set dotted.key=value` overrides typed by the
 * schema, and validates with zod. Every problem becomes one line naming the
 * key path, the value and what was expected.
 */
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { UserError, UserErrors } from "../core/errors.ts";
import { type Config, ConfigSchema } from "./schema.ts";

export const DEFAULT_CONFIG_PATH = "params.yaml";

type Json = unknown;
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  items?: JsonSchema;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
};

let cachedJsonSchema: JsonSchema | undefined;
export function configJsonSchema(): JsonSchema {
  cachedJsonSchema ??= z.toJSONSchema(ConfigSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return cachedJsonSchema;
}

/** The JSON-schema node at a dotted path, or undefined when the key is unknown. */
export function schemaAt(path: string[]): JsonSchema | undefined {
  let node: JsonSchema | undefined = configJsonSchema();
  for (const key of path) {
    if (!node) return undefined;
    const options: JsonSchema[] = node.anyOf ?? node.oneOf ?? [node];
    let next: JsonSchema | undefined;
    for (const opt of options) {
      if (opt.properties && key in opt.properties) next = opt.properties[key];
      else if (opt.additionalProperties && typeof opt.additionalProperties === "object") {
        next = opt.additionalProperties;
      }
      if (next) break;
    }
    node = next;
  }
  return node;
}

function acceptedTypes(node: JsonSchema): Set<string> {
  const out = new Set<string>();
  const visit = (n: JsonSchema) => {
    if (n.anyOf || n.oneOf) (n.anyOf ?? n.oneOf)!.forEach(visit);
    if (n.type) (Array.isArray(n.type) ? n.type : [n.type]).forEach((t) => out.add(t));
    if (n.enum) n.enum.forEach((v) => out.add(v === null ? "null" : typeof v));
  };
  visit(node);
  return out;
}

/** Turns the text of an override into the value its key expects. */
export function typedValue(path: string[], raw: string): Json {
  const node = schemaAt(path);
  if (!node) throw new UserError(`--set ${path.join(".")}=${raw}: unknown config key '${path.join(".")}'`);
  const types = acceptedTypes(node);
  // A key that only takes strings keeps the text as written ("007" stays "007").
  if (types.size === 1 && types.has("string")) return raw;
  // scikit-learn users write None (max_depth=None)
  if (types.has("null") && /^(none|null|~)$/i.test(raw.trim())) return null;
  let parsed: Json;
  try {
    parsed = parseYaml(raw);
  } catch {
    parsed = raw;
  }
  if (typeof parsed !== "string" && types.has("string") && !types.has(typeof parsed)) {
    return raw;
  }
  return parsed;
}

function setPath(target: Record<string, Json>, path: string[], value: Json): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (child === undefined || child === null || typeof child !== "object" || Array.isArray(child)) {
      node[key] = {};
    }
    node = node[key] as Record<string, Json>;
  }
  node[path[path.length - 1]] = value;
}

/**
 * Applies `key=value` overrides to a raw (unvalidated) config object. Every
 * malformed or unknown override is reported, one line each.
 */
export function applyOverrides(raw: Record<string, Json>, sets: string[]): Record<string, Json> {
  const out = structuredClone(raw);
  const problems: string[] = [];
  for (const set of sets) {
    const eq = set.indexOf("=");
    const path = set.slice(0, eq).trim().split(".");
    try {
      if (eq <= 0) throw new UserError(`--set ${set}: expected dotted.key=value`);
      if (path.some((p) => p === "")) throw new UserError(`--set ${set}: malformed key path`);
      setPath(out, path, typedValue(path, set.slice(eq + 1)));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length) throw new UserErrors(problems);
  return out;
}

const article = (word: string) => (/^[aeiou]/.test(word) ? "an " : "a ") + word;

/** What a schema node accepts, in words: `one of "sqrt", "log2", a number > 0, or null`. */
export function describeExpected(node: JsonSchema): string {
  const parts: string[] = [];
  const visit = (n: JsonSchema) => {
    if (n.anyOf || n.oneOf) return (n.anyOf ?? n.oneOf)!.forEach(visit);
    if (n.enum) return n.enum.forEach((v) => parts.push(JSON.stringify(v)));
    for (const t of Array.isArray(n.type) ? n.type : n.type ? [n.type] : []) {
      if (t === "null") parts.push("null");
      else if (t === "boolean") parts.push("true or false");
      else if (t === "array") parts.push("a list");
      else if (t === "object") parts.push("a mapping");
      else if (t === "number" || t === "integer") {
        const bounds = [
          n.exclusiveMinimum !== undefined ? `> ${n.exclusiveMinimum}` : "",
          n.minimum !== undefined ? `>= ${n.minimum}` : "",
          n.exclusiveMaximum !== undefined ? `< ${n.exclusiveMaximum}` : "",
          n.maximum !== undefined && n.maximum < Number.MAX_SAFE_INTEGER ? `<= ${n.maximum}` : "",
        ].filter(Boolean);
        parts.push(`${article(t)}${bounds.length ? " " + bounds.join(" and ") : ""}`);
      } else parts.push(article(t));
    }
  };
  visit(node);
  if (parts.length === 0) return "a valid value";
  if (parts.length === 1) return parts[0];
  return `one of ${parts.slice(0, -1).join(", ")} or ${parts[parts.length - 1]}`;
}

function describeValue(raw: Record<string, Json>, path: PropertyKey[]): string {
  let node: Json = raw;
  for (const key of path) {
    if (node === null || typeof node !== "object") return "(missing)";
    node = (node as Record<PropertyKey, Json>)[key];
  }
  if (node === undefined) return "(missing)";
  const text = JSON.stringify(node);
  return text.length > 60 ? text.slice(0, 57) + "..." : text;
}

/**
 * Validates a raw config object; throws one line per problem, naming where the
 * value came from (the file, or the `--set` that gave it), the key path, the
 * value and what the key expects.
 */
export function validateConfig(raw: Record<string, Json>, source: string, sets: string[] = []): Config {
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const origin = (path: PropertyKey[]) => {
    const key = path.join(".");
    // the last override of this key (or of a section holding it) wins, so name that one
    const set = [...sets].reverse().find((s) => {
      const k = s.slice(0, s.indexOf("=")).trim();
      return key === k || key.startsWith(k + ".");
    });
    return set;
  };
  const lines = result.error.issues.map((issue) => {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    if (keys.length) {
      const at = issue.path.length ? issue.path.join(".") + "." : "";
      return `${source}: unknown key ${keys.map((k) => `'${at}${k}'`).join(", ")}`;
    }
    const key = issue.path.join(".") || "(root)";
    const node = issue.code === "invalid_type" || issue.code === "invalid_union"
      ? schemaAt(issue.path.map(String))
      : undefined;
    const expected = node ? `expected ${describeExpected(node)}` : lowerFirst(issue.message);
    const set = origin(issue.path);
    // `--set key=value` already names the key and the value
    if (set !== undefined && set.slice(0, set.indexOf("=")).trim() === key) {
      return `--set ${set}: ${expected}`;
    }
    return `${set === undefined ? source : `--set ${set}`}: ${key} = ${
      describeValue(raw, issue.path)
    }: ${expected}`;
  });
  throw new UserErrors(lines);
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

export interface LoadOptions {
  /** config file; defaults to params.yaml (an absent default file means all defaults) */
  path?: string;
  sets?: string[];
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const path = opts.path ?? DEFAULT_CONFIG_PATH;
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) || opts.path !== undefined) {
      throw new UserError(
        `${path}: cannot read config (${e instanceof Error ? e.message.split(":")[0] : e})`,
      );
    }
  }
  let raw: Json;
  try {
    raw = text.trim() === "" ? {} : parseYaml(text);
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split("\n")[0].replace(/:\s*$/, "") : String(e);
    throw new UserError(`${path}: invalid YAML: ${msg}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new UserError(`${path}: expected a mapping of sections at the top level`);
  }
  const sets = opts.sets ?? [];
  let withSets: Record<string, Json>;
  try {
    withSets = applyOverrides(raw as Record<string, Json>, sets);
  } catch (e) {
    if (!(e instanceof UserErrors)) throw e;
    // report the file's own problems too, not only the bad overrides
    const good = sets.filter((s) => {
      try {
        applyOverrides({}, [s]);
        return true;
      } catch {
        return false;
      }
    });
    let more: string[] = [];
    try {
      validateConfig(applyOverrides(raw as Record<string, Json>, good), path, good);
    } catch (e2) {
      if (e2 instanceof UserErrors) more = e2.problems;
    }
    throw new UserErrors([...e.problems, ...more]);
  }
  return validateConfig(withSets, path, sets);
}
