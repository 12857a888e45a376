/**
 * Loads params.yaml, applies `--set dotted.key=value` overrides typed by the
 * schema, and validates with zod. Every problem becomes one line naming the
 * key path, the value and what was expected.
 */
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { UserError, UserErrors } from "../cli/errors.ts";
import { type Config, ConfigSchema } from "./schema.ts";

export const DEFAULT_CONFIG_PATH = "params.yaml";

type Json = unknown;
type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  items?: JsonSchema;
  default?: unknown;
};

let cachedJsonSchema: JsonSchema | undefined;
function configJsonSchema(): JsonSchema {
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

/** Applies `key=value` overrides to a raw (unvalidated) config object. */
export function applyOverrides(raw: Record<string, Json>, sets: string[]): Record<string, Json> {
  const out = structuredClone(raw);
  for (const set of sets) {
    const eq = set.indexOf("=");
    if (eq <= 0) throw new UserError(`--set ${set}: expected dotted.key=value`);
    const path = set.slice(0, eq).trim().split(".");
    if (path.some((p) => p === "")) throw new UserError(`--set ${set}: malformed key path`);
    setPath(out, path, typedValue(path, set.slice(eq + 1)));
  }
  return out;
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

/** Validates a raw config object; throws one line per problem. */
export function validateConfig(raw: Record<string, Json>, source: string): Config {
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    if (keys.length) {
      const at = issue.path.length ? issue.path.join(".") + "." : "";
      return `${source}: unknown key ${keys.map((k) => `'${at}${k}'`).join(", ")}`;
    }
    const key = issue.path.join(".") || "(root)";
    return `${source}: ${key} = ${describeValue(raw, issue.path)}: ${issue.message.toLowerCase()}`;
  });
  throw new UserErrors(lines);
}

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
    const msg = e instanceof YAMLParseError ? e.message.split("\n")[0] : String(e);
    throw new UserError(`${path}: invalid YAML: ${msg}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new UserError(`${path}: expected a mapping of sections at the top level`);
  }
  const withSets = applyOverrides(raw as Record<string, Json>, opts.sets ?? []);
  return validateConfig(withSets, path);
}
