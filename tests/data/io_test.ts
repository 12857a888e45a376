import assert from "node:assert/strict";
import { readTable } from "../../src/data/io.ts";
import { atomically, writeFrameAtomic, writeTextAtomic } from "../../src/core/atomic.ts";
import { UserError } from "../../src/core/errors.ts";

const dir = Deno.makeTempDirSync();
const file = (name: string, content: string | Uint8Array) => {
  const p = `${dir}/${name}`;
  if (typeof content === "string") Deno.writeTextFileSync(p, content);
  else Deno.writeFileSync(p, content);
  return p;
};
const rejects = (p: string, re: RegExp, opts = {}) =>
  assert.throws(() => readTable(p, opts), (e: unknown) => e instanceof UserError && re.test(e.message));

Deno.test("reads CSV, JSON, NDJSON and Parquet by extension", () => {
  const csv = readTable(file("a.csv", "id,x,c\n1,2.5,a\n2,NA,b\n"));
  assert.deepEqual(csv.shape, { height: 2, width: 3 });
  assert.equal(csv.getColumn("x").nullCount(), 1);
  const json = readTable(file("a.json", '[{"id":1,"x":2},{"id":2,"x":null}]'));
  assert.equal(json.height, 2);
  const nd = readTable(file("a.ndjson", '{"id":1}\n{"id":2}\n{"id":3}\n'));
  assert.equal(nd.height, 3);
  const pq = `${dir}/a.parquet`;
  writeFrameAtomic(csv, pq);
  assert.deepEqual(readTable(pq).toRecords(), csv.toRecords());
});

Deno.test("every bad input is one line naming the file", () => {
  rejects(`${dir}/missing.csv`, /missing\.csv: file not found/);
  rejects(file("empty.csv", ""), /empty\.csv: file is empty/);
  rejects(file("noheader.csv", "1,2,3\n4,5,6\n"), /noheader\.csv: no header row/);
  rejects(file("semi.csv", "id;x;y\n1;2;3\n"), /semi\.csv: wrong delimiter: the header looks ';'-separated/, {
    read: { delimiter: "," },
  });
  rejects(file("latin1.csv", new Uint8Array([0x69, 0x64, 0x0a, 0xe9, 0x0a])), /latin1\.csv: not UTF-8/);
  rejects(file("cols.csv", "id,x\n1,2\n"), /cols\.csv: missing required column 'target'/, {
    required: ["target"],
  });
  rejects(file("bad.json", "[{"), /bad\.json: cannot parse/);
  rejects(file("bad.parquet", "not parquet"), /bad\.parquet: not a readable Parquet file/);
  rejects(`${dir}/missing.parquet`, /missing\.parquet: file not found$/);
  rejects(file("empty.parquet", ""), /empty\.parquet: file is empty$/);
  Deno.mkdirSync(`${dir}/folder.parquet`);
  rejects(`${dir}/folder.parquet`, /folder\.parquet: is a directory, expected a file$/);
  rejects(file("x.xlsx", "x"), /x\.xlsx: unsupported file type '\.xlsx'/);
  // a folder is a folder, whatever its name; a name without an extension says so
  Deno.mkdirSync(`${dir}/data/user`, { recursive: true });
  rejects(`${dir}/data/user`, /data\/user: is a directory, expected a file$/);
  rejects(`${dir}/data/user-missing`, /user-missing: file not found$/);
  rejects(file("noext", "a\n1\n"), /noext: no file extension \(use \.csv/);
});

Deno.test("atomic writes leave no temp files and keep the old file on failure", () => {
  const p = `${dir}/out/atomic.txt`;
  writeTextAtomic(p, "one");
  writeTextAtomic(p, "two");
  assert.equal(Deno.readTextFileSync(p), "two");
  assert.deepEqual([...Deno.readDirSync(`${dir}/out`)].map((e) => e.name), ["atomic.txt"]);
  assert.throws(() =>
    atomically(p, (tmp) => {
      Deno.writeTextFileSync(tmp, "half of thr");
      throw new Error("disk full");
    }), /disk full/);
  assert.equal(Deno.readTextFileSync(p), "two");
  assert.deepEqual([...Deno.readDirSync(`${dir}/out`)].map((e) => e.name), ["atomic.txt"]);
});

Deno.test("a quoted CSV header name with doubled quotes reads as RFC 4180 says (polars kept them doubled)", () => {
  const p = file("quoted.csv", 'x,"a""b&c","plain",y\n1,"x""y",3,4\n');
  for (const allStrings of [false, true]) {
    const df = readTable(p, { allStrings });
    assert.deepEqual(df.columns, ["x", 'a"b&c', "plain", "y"], String(allStrings));
    assert.equal(df.getColumn('a"b&c').get(0), 'x"y');
  }
});
