/**
 * The runs filter grammar, in the spirit of MLflow's search syntax but with OR,
 * NOT and parentheses:
 *
 *   expr       := or
 *   or         := and ("OR" and)*
 *   and        := unary ("AND" unary)*
 *   unary      := "NOT" unary | "(" expr ")" | comparison
 *   comparison := key op value
 *               | key ["NOT"] ("LIKE" | "ILIKE") string
 *               | key ["NOT"] "IN" "(" value ("," value)* ")"
 *               | key "IS" ["NOT"] "NULL"
 *   key        := ("metrics" | "params" | "tags" | "attributes") "." name | attribute
 *   op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
 *   value      := number | 'string' | "string" | true | false
 *
 * Keywords are case-insensitive; `metric.`, `param.`, `tag.`, `attr.` and `run.`
 * are accepted as prefixes; a name may be quoted with backticks or double
 * quotes (`metrics.\`f1 score\``) and may contain dots (`tags.git.commit`).
 * Attributes: run_id, run_name (or name), status, experiment, parent_run_id,
 * start_time, end_time, duration (ms). Times compare as ms since the epoch or
 * against an ISO date string.
 *
 * Semantics: a run lacking the key fails every comparison except IS NULL (as
 * SQL); a missing metric (stored NULL, NaN in memory) counts as lacking it. Metrics compare as numbers. Params, tags and text attributes compare as
 * numbers when the value is a number literal and the stored text parses as a
 * number (`params.max_depth = 10` matches "10"), otherwise as strings.
 */
import { UserError } from "../core/errors.ts";

export type KeyKind = "metrics" | "params" | "tags" | "attributes";
export interface Key {
  kind: KeyKind;
  name: string;
}
export type Literal = number | string | boolean;
export type Filter =
  | { type: "and" | "or"; left: Filter; right: Filter }
  | { type: "not"; expr: Filter }
  | { type: "cmp"; key: Key; op: "=" | "!=" | "<" | "<=" | ">" | ">="; value: Literal }
  | { type: "like"; key: Key; value: string; caseInsensitive: boolean; negate: boolean }
  | { type: "in"; key: Key; values: Literal[]; negate: boolean }
  | { type: "null"; key: Key; negate: boolean };

/** The part of a run the filter reads (tracking's Run satisfies it). */
export interface FilterableRun {
  runId: string;
  experiment: string;
  runName: string | null;
  status: string;
  startTime: number;
  endTime: number | null;
  parentRunId: string | null;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

const PREFIXES: Record<string, KeyKind> = {
  metrics: "metrics",
  metric: "metrics",
  params: "params",
  param: "params",
  parameters: "params",
  tags: "tags",
  tag: "tags",
  attributes: "attributes",
  attribute: "attributes",
  attr: "attributes",
  run: "attributes",
};

const ATTRIBUTE_ALIASES: Record<string, string> = {
  run_id: "run_id",
  id: "run_id",
  run_name: "run_name",
  name: "run_name",
  status: "status",
  experiment: "experiment",
  parent_run_id: "parent_run_id",
  start_time: "start_time",
  end_time: "end_time",
  duration: "duration",
};
const NUMERIC_ATTRIBUTES = new Set(["start_time", "end_time", "duration"]);

type Token =
  | { t: "key"; key: Key; pos: number }
  | { t: "word"; v: string; pos: number }
  | { t: "num"; v: number; pos: number }
  | { t: "str"; v: string; pos: number }
  | { t: "op"; v: string; pos: number }
  | { t: "("; pos: number }
  | { t: ")"; pos: number }
  | { t: ","; pos: number }
  | { t: "end"; pos: number };

function fail(source: string, pos: number, message: string): never {
  const where = pos >= source.length ? "at the end" : `at column ${pos + 1}`;
  throw new UserError(`filter: ${message} ${where} of "${source}"`);
}

function attributeKey(source: string, pos: number, name: string): Key {
  const canonical = ATTRIBUTE_ALIASES[name.toLowerCase()];
  if (!canonical) {
    fail(
      source,
      pos,
      `unknown attribute '${name}' (use metrics.<name>, params.<name>, tags.<name> or one of ${
        Object.keys(ATTRIBUTE_ALIASES).join(", ")
      })`,
    );
  }
  return { kind: "attributes", name: canonical };
}

function readQuoted(source: string, start: number): { text: string; end: number } {
  const quote = source[start];
  let i = start + 1;
  let text = "";
  while (i < source.length) {
    const c = source[i];
    if (c === quote) {
      if (source[i + 1] === quote) { // doubled quote escapes itself, as in SQL
        text += quote;
        i += 2;
        continue;
      }
      return { text, end: i + 1 };
    }
    if (c === "\\" && i + 1 < source.length) {
      text += source[i + 1];
      i += 2;
      continue;
    }
    text += c;
    i++;
  }
  fail(source, start, `unterminated ${quote} quote`);
}

function tokenize(source: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const pos = i;
    if (c === "(" || c === ")" || c === ",") {
      out.push({ t: c, pos });
      i++;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (["<=", ">=", "!=", "<>", "=="].includes(two)) {
      out.push({ t: "op", v: two === "<>" ? "!=" : two === "==" ? "=" : two, pos });
      i += 2;
      continue;
    }
    if (c === "<" || c === ">" || c === "=") {
      out.push({ t: "op", v: c, pos });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const q = readQuoted(source, i);
      out.push({ t: "str", v: q.text, pos });
      i = q.end;
      continue;
    }
    const num = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(source.slice(i));
    if (num && (c !== "-" && c !== "+" || /[\d.]/.test(source[i + 1] ?? ""))) {
      const after = source[i + num[0].length];
      if (after === undefined || !/[A-Za-z_]/.test(after)) {
        out.push({ t: "num", v: Number(num[0]), pos });
        i += num[0].length;
        continue;
      }
    }
    if (c === "`") {
      // a whole backticked attribute name, e.g. `run_name`
      const q = readQuoted(source, i);
      out.push({ t: "key", key: attributeKey(source, pos, q.text), pos });
      i = q.end;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i));
    if (!word) fail(source, pos, `unexpected character '${c}'`);
    i += word[0].length;
    const prefix = PREFIXES[word[0].toLowerCase()];
    if (prefix && source[i] === ".") {
      i++;
      let name: string;
      if (source[i] === "`" || source[i] === '"') {
        const q = readQuoted(source, i);
        name = q.text;
        i = q.end;
      } else {
        const m = /^[A-Za-z0-9_\-./:]+/.exec(source.slice(i));
        if (!m) fail(source, i, `expected a name after '${word[0]}.'`);
        name = m[0].replace(/\.+$/, "");
        i += name.length;
      }
      if (name === "") fail(source, pos, `empty name after '${word[0]}.'`);
      out.push({
        t: "key",
        key: prefix === "attributes" ? attributeKey(source, pos, name) : { kind: prefix, name },
        pos,
      });
      continue;
    }
    out.push({ t: "word", v: word[0], pos });
  }
  out.push({ t: "end", pos: source.length });
  return out;
}

const KEYWORDS = new Set(["and", "or", "not", "like", "ilike", "in", "is", "null", "true", "false"]);

/** How deep parentheses and NOTs may nest, and how many comparisons one filter holds: bounds the recursion. */
const MAX_NESTING = 64;
const MAX_COMPARISONS = 500;

class Parser {
  private i = 0;
  private depth = 0;
  private comparisons = 0;
  constructor(private readonly source: string, private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i];
  }
  private next(): Token {
    return this.tokens[this.i++];
  }
  private isWord(tok: Token, w: string): boolean {
    return tok.t === "word" && tok.v.toLowerCase() === w;
  }
  private describe(tok: Token): string {
    switch (tok.t) {
      case "end":
        return "end of filter";
      case "key":
        return `'${tok.key.kind}.${tok.key.name}'`;
      case "word":
      case "op":
        return `'${tok.v}'`;
      case "num":
        return `${tok.v}`;
      case "str":
        return `'${tok.v}'`;
      default:
        return `'${tok.t}'`;
    }
  }

  parse(): Filter {
    const expr = this.or();
    const tok = this.peek();
    if (tok.t !== "end") {
      fail(this.source, tok.pos, `expected AND, OR or the end, found ${this.describe(tok)}`);
    }
    return expr;
  }

  private or(): Filter {
    let left = this.and();
    while (this.isWord(this.peek(), "or")) {
      this.next();
      left = { type: "or", left, right: this.and() };
    }
    return left;
  }

  private and(): Filter {
    let left = this.unary();
    while (this.isWord(this.peek(), "and")) {
      this.next();
      left = { type: "and", left, right: this.unary() };
    }
    return left;
  }

  private unary(): Filter {
    const tok = this.peek();
    const nested = this.isWord(tok, "not") || tok.t === "(";
    if (nested && ++this.depth > MAX_NESTING) {
      fail(this.source, tok.pos, `parentheses and NOTs nested more than ${MAX_NESTING} deep`);
    }
    try {
      if (this.isWord(tok, "not")) {
        this.next();
        return { type: "not", expr: this.unary() };
      }
      if (tok.t === "(") {
        this.next();
        const inner = this.or();
        const close = this.next();
        if (close.t !== ")") fail(this.source, close.pos, `expected ')', found ${this.describe(close)}`);
        return inner;
      }
      if (++this.comparisons > MAX_COMPARISONS) {
        fail(this.source, tok.pos, `more than ${MAX_COMPARISONS} comparisons in one filter`);
      }
      return this.comparison();
    } finally {
      if (nested) this.depth--;
    }
  }

  private key(): Key {
    const tok = this.next();
    if (tok.t === "key") return tok.key;
    if (tok.t === "word" && !KEYWORDS.has(tok.v.toLowerCase())) {
      return attributeKey(this.source, tok.pos, tok.v);
    }
    fail(
      this.source,
      tok.pos,
      `expected a key like metrics.roc_auc, params.max_depth or tags.<name>, found ${this.describe(tok)}`,
    );
  }

  private value(): Literal {
    const tok = this.next();
    if (tok.t === "num" || tok.t === "str") return tok.v;
    if (this.isWord(tok, "true")) return true;
    if (this.isWord(tok, "false")) return false;
    fail(this.source, tok.pos, `expected a number or a quoted string, found ${this.describe(tok)}`);
  }

  /**
   * A time attribute takes epoch ms or a date/time Date.parse reads; a duration, a number. Anything else
   * would compare as text and silently match no run or every run.
   */
  private checkTime(key: Key, value: Literal, pos: number): void {
    if (key.kind !== "attributes" || !NUMERIC_ATTRIBUTES.has(key.name) || typeof value === "number") return;
    if (key.name === "duration") {
      fail(this.source, pos, `duration compares with a number of milliseconds, not '${value}'`);
    }
    if (typeof value !== "string" || Number.isNaN(Date.parse(value))) {
      fail(
        this.source,
        pos,
        `${key.name} compares with a date or time (e.g. '2026-12-01' or '2026-12-01T10:00:00Z') or epoch ms, not '${value}'`,
      );
    }
  }

  private comparison(): Filter {
    const key = this.key();
    const tok = this.next();
    if (tok.t === "op") {
      const value = this.value();
      if (key.kind === "metrics" && typeof value !== "number") {
        fail(this.source, tok.pos, `metrics.${key.name} compares with a number, not '${value}'`);
      }
      this.checkTime(key, value, tok.pos);
      return { type: "cmp", key, op: tok.v as "=", value };
    }
    let negate = false;
    let word: Token = tok;
    if (this.isWord(tok, "not")) {
      negate = true;
      word = this.next();
    }
    if (this.isWord(word, "like") || this.isWord(word, "ilike")) {
      const v = this.next();
      if (v.t !== "str") fail(this.source, v.pos, `LIKE needs a quoted pattern, found ${this.describe(v)}`);
      return { type: "like", key, value: v.v, caseInsensitive: this.isWord(word, "ilike"), negate };
    }
    if (this.isWord(word, "in")) {
      const open = this.next();
      if (open.t !== "(") fail(this.source, open.pos, `expected '(' after IN, found ${this.describe(open)}`);
      const values = [this.value()];
      while (this.peek().t === ",") {
        this.next();
        values.push(this.value());
      }
      for (const v of values) this.checkTime(key, v, open.pos);
      const close = this.next();
      if (close.t !== ")") {
        fail(this.source, close.pos, `expected ',' or ')' in IN list, found ${this.describe(close)}`);
      }
      return { type: "in", key, values, negate };
    }
    if (!negate && this.isWord(word, "is")) {
      let neg = false;
      let n = this.next();
      if (this.isWord(n, "not")) {
        neg = true;
        n = this.next();
      }
      if (!this.isWord(n, "null")) {
        fail(this.source, n.pos, `expected NULL after IS, found ${this.describe(n)}`);
      }
      return { type: "null", key, negate: neg };
    }
    fail(
      this.source,
      word.pos,
      `expected a comparison (=, !=, <, <=, >, >=, LIKE, IN, IS NULL) after '${key.kind}.${key.name}', found ${
        this.describe(word)
      }`,
    );
  }
}

/** Parses a filter string; throws UserError with the column of the problem. */
export function parseFilter(source: string): Filter {
  const tokens = tokenize(source);
  if (tokens.length === 1) throw new UserError("filter: empty filter");
  return new Parser(source, tokens).parse();
}

/** Every key a filter reads (so a search can load just those). */
export function filterKeys(filter: Filter): Key[] {
  switch (filter.type) {
    case "and":
    case "or":
      return [...filterKeys(filter.left), ...filterKeys(filter.right)];
    case "not":
      return filterKeys(filter.expr);
    default:
      return [filter.key];
  }
}

/** The value a key reads from a run: number, string, or undefined when absent. */
function keyValue(run: FilterableRun, key: Key): number | string | undefined {
  switch (key.kind) {
    case "metrics":
      return run.metrics[key.name];
    case "params":
      return run.params[key.name];
    case "tags":
      return run.tags[key.name];
    case "attributes":
      switch (key.name) {
        case "run_id":
          return run.runId;
        case "run_name":
          return run.runName ?? undefined;
        case "status":
          return run.status;
        case "experiment":
          return run.experiment;
        case "parent_run_id":
          return run.parentRunId ?? undefined;
        case "start_time":
          return run.startTime;
        case "end_time":
          return run.endTime ?? undefined;
        case "duration":
          return run.endTime == null ? undefined : run.endTime - run.startTime;
      }
  }
  return undefined;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return undefined;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

function literalFor(key: Key, value: Literal): Literal {
  // times accept an ISO date/time string
  if (key.kind === "attributes" && NUMERIC_ATTRIBUTES.has(key.name) && typeof value === "string") {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  if (key.kind === "attributes" && key.name === "status" && typeof value === "string") {
    return value.toUpperCase();
  }
  return value;
}

/** -1, 0, 1, or undefined when the two cannot be compared. */
function compareValues(stored: number | string, literal: Literal): number | undefined {
  if (typeof literal === "number") {
    const n = asNumber(stored);
    if (n === undefined || Number.isNaN(n)) return undefined;
    return n < literal ? -1 : n > literal ? 1 : 0;
  }
  const s = typeof literal === "boolean" ? String(literal) : literal;
  const text = typeof stored === "number" ? String(stored) : stored;
  if (typeof literal === "boolean") {
    const lower = text.toLowerCase();
    return lower === s ? 0 : lower < s ? -1 : 1;
  }
  return text < s ? -1 : text > s ? 1 : 0;
}

function likeRegex(pattern: string, caseInsensitive: boolean): RegExp {
  let re = "";
  for (const c of pattern) {
    if (c === "%") re += ".*";
    else if (c === "_") re += ".";
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, caseInsensitive ? "is" : "s");
}

/** Whether the run matches: the filter is true for it (unknown, as for a missing value, is no match). */
export function matchesFilter(filter: Filter, run: FilterableRun): boolean {
  return evaluate(filter, run) === true;
}

/**
 * SQL's three values: a comparison with a missing value, or one that cannot be compared (the text
 * "null" with a number), is unknown (undefined), and stays unknown under NOT. So `!= 10`, `NOT IN (10)`
 * and `NOT ... = 10` agree: none matches a run whose value is not known to differ.
 */
function evaluate(filter: Filter, run: FilterableRun): boolean | undefined {
  switch (filter.type) {
    case "and": {
      const a = evaluate(filter.left, run), b = evaluate(filter.right, run);
      return a === false || b === false ? false : a === undefined || b === undefined ? undefined : true;
    }
    case "or": {
      const a = evaluate(filter.left, run), b = evaluate(filter.right, run);
      return a === true || b === true ? true : a === undefined || b === undefined ? undefined : false;
    }
    case "not": {
      const v = evaluate(filter.expr, run);
      return v === undefined ? undefined : !v;
    }
    case "null": {
      const v = keyValue(run, filter.key);
      const missing = v === undefined || (typeof v === "number" && Number.isNaN(v));
      return filter.negate ? !missing : missing;
    }
  }
  const raw = keyValue(run, filter.key);
  if (raw === undefined) return undefined;
  const stored = filter.key.kind === "attributes" && filter.key.name === "status" && typeof raw === "string"
    ? raw.toUpperCase()
    : raw;
  switch (filter.type) {
    case "cmp": {
      const c = compareValues(stored, literalFor(filter.key, filter.value));
      if (c === undefined) return undefined;
      switch (filter.op) {
        case "=":
          return c === 0;
        case "!=":
          return c !== 0;
        case "<":
          return c < 0;
        case "<=":
          return c <= 0;
        case ">":
          return c > 0;
        case ">=":
          return c >= 0;
      }
      return false;
    }
    case "like": {
      const hit = likeRegex(filter.value, filter.caseInsensitive).test(String(stored));
      return filter.negate ? !hit : hit;
    }
    case "in": {
      const cs = filter.values.map((v) => compareValues(stored, literalFor(filter.key, v)));
      if (cs.includes(0)) return !filter.negate;
      return cs.includes(undefined) ? undefined : filter.negate;
    }
  }
}

export interface OrderClause {
  key: Key;
  descending: boolean;
}

/** Parses "metrics.roc_auc desc, params.max_depth" (or an array of clauses). */
export function parseOrderBy(orderBy: string | string[] | undefined): OrderClause[] {
  if (orderBy === undefined) return [];
  const clauses = (Array.isArray(orderBy) ? orderBy : [orderBy]).flatMap((s) => s.split(","))
    .map((s) => s.trim()).filter((s) => s !== "");
  return clauses.map((clause) => {
    try {
      return orderClause(clause);
    } catch (e) {
      // the tokenizer and key parser speak of a filter: this is a sort
      if (e instanceof UserError) throw new UserError(e.message.replace(/^filter: /, "sort: "));
      throw e;
    }
  });
}

/** One sort clause: a key, then ASC or DESC. */
function orderClause(clause: string): OrderClause {
  const tokens = tokenize(clause);
  const first = tokens[0];
  let key: Key;
  if (first.t === "key") key = first.key;
  else if (first.t === "word") key = attributeKey(clause, first.pos, first.v);
  else fail(clause, first.pos, "expected a key to sort by, like metrics.roc_auc");
  let descending = false;
  let i = 1;
  const dir = tokens[i];
  if (dir.t === "word" && /^(asc|desc)$/i.test(dir.v)) {
    descending = dir.v.toLowerCase() === "desc";
    i++;
  }
  if (tokens[i].t !== "end") {
    fail(clause, tokens[i].pos, "expected ASC or DESC after the sort key (sort: 'metrics.roc_auc desc')");
  }
  return { key, descending };
}

/** A stable sort by the clauses; runs lacking a key sort last either way. */
export function sortRuns<R extends FilterableRun>(runs: R[], order: OrderClause[]): R[] {
  if (order.length === 0) return runs.slice();
  const decorated = runs.map((run, index) => ({
    run,
    index,
    values: order.map((o) => keyValue(run, o.key)),
  }));
  decorated.sort((a, b) => {
    for (let k = 0; k < order.length; k++) {
      const va = a.values[k];
      const vb = b.values[k];
      const missingA = va === undefined || (typeof va === "number" && Number.isNaN(va));
      const missingB = vb === undefined || (typeof vb === "number" && Number.isNaN(vb));
      if (missingA || missingB) {
        if (missingA && missingB) continue;
        return missingA ? 1 : -1;
      }
      const na = asNumber(va);
      const nb = asNumber(vb);
      let c: number;
      if (na !== undefined && nb !== undefined) c = na - nb;
      else c = String(va) < String(vb) ? -1 : String(va) > String(vb) ? 1 : 0;
      if (c !== 0) return order[k].descending ? -c : c;
    }
    return a.index - b.index;
  });
  return decorated.map((d) => d.run);
}
