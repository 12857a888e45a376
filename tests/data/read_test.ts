/**
 * Tables as they come (issue 15, part 6): CSV variants written here byte by
 * byte — semicolons, a decimal comma, thousands separators, Latin-1, a BOM,
 * CRLF, quoted fields with delimiters and newlines inside, a mostly-numeric
 * column with a few bad values — read by the one reader every command uses.
 */
import assert from "node:assert/strict";
import { type ReadOptions, readTable } from "../../src/data/io.ts";
import { detectDelimiter, numberFromText, splitCsvText } from "../../src/data/csv.ts";
import { UserError } from "../../src/core/errors.ts";
import { ConfigSchema } from "../../src/config/schema.ts";

const dir = Deno.makeTempDirSync({ prefix: "orchard-read-" });
const file = (name: string, content: string | Uint8Array) => {
  const p = `${dir}/${name}`;
  if (typeof content === "string") Deno.writeTextFileSync(p, content);
  else Deno.writeFileSync(p, content);
  return p;
};
/** Reads with the notes captured instead of printed. */
function read(path: string, opts: ReadOptions = {}) {
  const notes: string[] = [];
  const df = readTable(path, { ...opts, log: (m) => notes.push(m) });
  return { df, notes, rows: df.toRecords(), dtype: (c: string) => String(df.getColumn(c).dtype) };
}
const isFloat = (t: string) => /Float64/.test(t);

Deno.test("a semicolon file is detected and read, reported in one line", () => {
  const { rows, notes } = read(file("semi.csv", "id;x;y\n1;2;a\n2;3;b\n"));
  assert.deepEqual(rows, [{ id: 1, x: 2, y: "a" }, { id: 2, x: 3, y: "b" }]);
  assert.equal(notes.length, 1);
  assert.match(notes[0], /semi\.csv: detected delimiter ';'/);
  // a delimiter that is set is not second-guessed: the header check still names the mistake
  assert.throws(
    () => readTable(`${dir}/semi.csv`, { read: { delimiter: "," } }),
    (e: unknown) =>
      e instanceof UserError && /wrong delimiter: the header looks ';'-separated/.test(e.message),
  );
});

Deno.test("tab and pipe are detected; a comma file says nothing", () => {
  assert.deepEqual(read(file("t.csv", "a\tb\n1\t2\n")).rows, [{ a: 1, b: 2 }]);
  assert.deepEqual(read(file("p.txt", "a|b\n1|2\n")).rows, [{ a: 1, b: 2 }]);
  const plain = read(file("c.csv", "a,b\n1,2\n"));
  assert.deepEqual(plain.notes, []);
  // quoted commas do not fool detection of a semicolon file
  assert.equal(detectDelimiter('name;amount\n"Smith, J.";3\n"Doe, A.";4\n'), ";");
  assert.equal(detectDelimiter("a,b,c\n1,2,3\n4,5,6\n"), ",");
});

Deno.test('thousands separators in a comma file: "23,800.00" is a number, not a category', () => {
  const { rows, notes, dtype } = read(
    file(
      "thousands.csv",
      'id,price,city\n1,"23,800.00",Oslo\n2,"1,250.50",Rome\n3,990,Lima\n4,"1,000,000",Oslo\n',
    ),
  );
  assert.ok(isFloat(dtype("price")), dtype("price"));
  assert.deepEqual(rows.map((r) => r.price), [23800, 1250.5, 990, 1000000]);
  assert.equal(dtype("city"), "DataType(String)");
  assert.equal(notes.length, 1);
  assert.match(notes[0], /thousands\.csv: read numbers with thousands separator ',' in price/);
});

Deno.test('a decimal comma with "." thousands ("1.234,56") in a semicolon file', () => {
  const { rows, notes, dtype } = read(
    file("euro.csv", "id;amount;rate\n1;1.234,56;0,5\n2;17,25;1,25\n3;2.000.000;3\n"),
  );
  assert.ok(isFloat(dtype("amount")) && isFloat(dtype("rate")));
  assert.deepEqual(rows.map((r) => r.amount), [1234.56, 17.25, 2000000]);
  assert.deepEqual(rows.map((r) => r.rate), [0.5, 1.25, 3]);
  assert.equal(notes.length, 2); // the delimiter, then the number format: one line each
  assert.match(
    notes[1],
    /euro\.csv: read numbers with a decimal comma and thousands separator '\.' in amount/,
  );
  assert.match(notes[1], /a decimal comma in rate/);
});

Deno.test("the decimal mark is decided per file: '1.234' stays 1.234 next to point decimals", () => {
  const { rows } = read(file("points.csv", "a;b\n1.234;0.5\n2.5;1.75\n"));
  assert.deepEqual(rows.map((r) => r.a), [1.234, 2.5]);
  // and set explicitly, it wins over detection
  const set = read(file("set.csv", "a;b\n1.234;7\n2.000;8\n"), { read: { decimal: ",", thousands: "." } });
  assert.deepEqual(set.rows.map((r) => r.a), [1234, 2000]);
  // a decimal-comma file: a column polars took for point decimals ("1.500") is read again by the comma rule
  const euro = read(file("euro2.csv", "a;b;c\n1.500;2,5;0.25\n2.250;3,75;0.5\n"));
  assert.deepEqual(euro.rows.map((r) => r.a), [1500, 2250]);
  assert.deepEqual(euro.rows.map((r) => r.c), [0.25, 0.5]); // real point decimals keep polars' reading
  const none = read(file("none.csv", 'a,b\n"1,234",1\n"2,5",2\n'), {
    read: { thousands: "none", decimal: "," },
  });
  assert.deepEqual(none.rows.map((r) => r.a), [1.234, 2.5]);
});

Deno.test("Latin-1 bytes: a clear error by default, read with encoding latin-1", () => {
  // "name,city\nJosé,Zürich\n" in ISO-8859-1
  const bytes = new Uint8Array([
    ...new TextEncoder().encode("name,city\nJos"),
    0xe9,
    ...new TextEncoder().encode(",Z"),
    0xfc,
    ...new TextEncoder().encode("rich\n"),
  ]);
  const p = file("latin1.csv", bytes);
  assert.throws(
    () => readTable(p),
    (e: unknown) => e instanceof UserError && /not UTF-8 .*data\.read\.encoding: latin-1/.test(e.message),
  );
  assert.deepEqual(read(p, { read: { encoding: "latin-1" } }).rows, [{ name: "José", city: "Zürich" }]);
  assert.deepEqual(read(p, { read: { encoding: "windows-1252" } }).rows, [{ name: "José", city: "Zürich" }]);
});

Deno.test("a UTF-8 BOM is stripped from CSV, NDJSON and JSON", () => {
  const bom = (s: string) => new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(s)]);
  assert.deepEqual(read(file("bom.csv", bom("id,x\n1,2\n"))).df.columns, ["id", "x"]);
  assert.deepEqual(read(file("bom.ndjson", bom('{"id":1}\n{"id":2}\n'))).rows, [{ id: 1 }, { id: 2 }]);
  assert.deepEqual(read(file("bom.json", bom('[{"id":1},{"id":2}]'))).rows, [{ id: 1 }, { id: 2 }]);
  // a BOM in a semicolon file does not break detection
  assert.deepEqual(read(file("bom_semi.csv", bom("id;x\n1;2,5\n"))).rows, [{ id: 1, x: 2.5 }]);
});

Deno.test("CRLF line ends and quoted fields with delimiters and newlines inside", () => {
  const { rows, dtype } = read(
    file("crlf.csv", 'id;note;amount\r\n1;"a; b";1,5\r\n2;"two\r\nlines";2,25\r\n3;"say ""hi""";3\r\n'),
  );
  assert.deepEqual(rows.map((r) => r.note), ["a; b", "two\r\nlines", 'say "hi"']);
  assert.deepEqual(rows.map((r) => r.amount), [1.5, 2.25, 3]);
  assert.ok(isFloat(dtype("amount")));
  const comma = read(file("crlf_comma.csv", 'a,b\r\n1,"x,\ny"\r\n2,z\r\n'));
  assert.deepEqual(comma.rows, [{ a: 1, b: "x,\ny" }, { a: 2, b: "z" }]);
});

Deno.test("a mostly-numeric column is numeric with its few bad cells missing, and says so", () => {
  const lines = ["id,income,grade"];
  for (let i = 0; i < 80; i++) {
    const income = i === 7 ? "n/a?" : i === 19 ? "-" : i === 31 ? "12k" : String(1000 + i * 10.5);
    lines.push(`${i},${income},${"ABC"[i % 3]}`);
  }
  const { df, notes, dtype } = read(file("mostly.csv", lines.join("\n") + "\n"));
  assert.ok(isFloat(dtype("income")), dtype("income"));
  assert.equal(df.getColumn("income").nullCount(), 3);
  assert.equal(df.getColumn("income").get(0), 1000);
  assert.equal(notes.length, 1);
  assert.match(notes[0], /mostly\.csv: column 'income' is numeric except 3 of 80 values/);
  assert.match(notes[0], /"n\/a\?", "-", "12k"/);
  assert.equal(dtype("grade"), "DataType(String)");
});

Deno.test("below the numeric share a column stays text; the share is a setting", () => {
  const lines = ["id,code"];
  for (let i = 0; i < 20; i++) lines.push(`${i},${i % 4 === 0 ? "X" + i : i}`); // 75% numbers
  const p = file("codes.csv", lines.join("\n") + "\n");
  const { notes, dtype } = read(p);
  assert.equal(dtype("code"), "DataType(String)");
  assert.deepEqual(notes, []);
  const lax = read(p, { read: { numeric_share: 0.7 } });
  assert.ok(isFloat(lax.dtype("code")));
  assert.match(lax.notes[0], /column 'code' is numeric except 5 of 20 values/);
});

Deno.test("a late bad value that breaks polars' inference is read by the same rule", () => {
  const lines = ["id,x"];
  for (let i = 0; i < 12_000; i++) lines.push(`${i},${i === 11_500 ? "oops" : i}`);
  const { df, notes, dtype } = read(file("late.csv", lines.join("\n") + "\n"));
  assert.ok(/Float64|Int64/.test(dtype("x")), dtype("x"));
  assert.equal(df.getColumn("x").nullCount(), 1);
  assert.match(notes.join("\n"), /column 'x' is numeric except 1 of 12000 values.*"oops"/);
});

Deno.test("set options: delimiter, quote and null tokens", () => {
  const { rows } = read(file("opts.txt", "a|b|c\n1|'x|y'|-\n2|z|3\n"), {
    read: { delimiter: "|", quote: "'", null_tokens: ["-", ""] },
  });
  assert.deepEqual(rows, [{ a: 1, b: "x|y", c: null }, { a: 2, b: "z", c: 3 }]);
  assert.deepEqual(read(file("tab.txt", "a\tb\n1\t2\n"), { read: { delimiter: "tab" } }).rows, [{
    a: 1,
    b: 2,
  }]);
});

Deno.test("data.read in params.yaml: defaults, and a bad value is named", () => {
  const c = ConfigSchema.parse({});
  assert.deepEqual(
    { ...c.data.read },
    {
      delimiter: "auto",
      quote: '"',
      decimal: "auto",
      thousands: "auto",
      encoding: "utf-8",
      numeric_share: 0.95,
    },
  );
  const set = ConfigSchema.parse({ data: { read: { delimiter: ";", decimal: ",", encoding: "latin-1" } } });
  assert.equal(set.data.read.delimiter, ";");
  assert.throws(() => ConfigSchema.parse({ data: { read: { delimiter: ";;" } } }), /delimiter/);
  assert.throws(() => ConfigSchema.parse({ data: { read: { encoding: "utf-16" } } }), /encoding/);
});

Deno.test("the unsupported-format error lists every extension, .tsv included", () => {
  assert.throws(
    () => readTable(file("x.xlsx", "x")),
    (e: unknown) =>
      e instanceof UserError &&
      /\.csv, \.tsv, \.txt, \.json, \.ndjson, \.jsonl, \.parquet or \.pq\)$/.test(e.message),
  );
});

Deno.test("one text cell (the service's text/csv) follows the same number rules", () => {
  assert.equal(numberFromText("23,800.00"), 23800);
  assert.equal(numberFromText(" 12.5 "), 12.5);
  assert.equal(numberFromText("2,5", {}, ";"), 2.5);
  assert.equal(numberFromText("1.234,56", {}, ";"), 1234.56);
  assert.equal(numberFromText("abc"), null);
  assert.equal(numberFromText("1,5"), 1.5); // not thousands: groups are of three
  assert.deepEqual(splitCsvText('\uFEFFa;b\r\n"x;y";2\r\n', ";"), [["a", "b"], ["x;y", "2"]]);
});
