/**
 * `deno task test`: every suite under tests/ — unit, end-to-end, and the
 * notebooks on the Deno Jupyter kernel (tests/notebooks runs them where Jupyter
 * is installed and says it skipped where it is not). Ends with one
 * "N passed, N failed" line for CI logs.
 */
const TEST_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-ffi",
  "--allow-sys",
  "--allow-env",
  "--allow-run",
  "--allow-net=127.0.0.1,localhost,0.0.0.0",
];

const child = new Deno.Command(Deno.execPath(), {
  args: ["test", ...TEST_PERMISSIONS, ...Deno.args, ...(Deno.args.length ? [] : ["tests/"])],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
let out = "";
const dec = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  out += dec.decode(chunk, { stream: true });
}
const { code } = await child.status;
// deno test's closing line: "ok | 12 passed (3 steps) | 0 failed | 2 ignored (4s)"
// deno-lint-ignore no-control-regex
const last = out.replace(/\x1b\[[0-9;]*m/g, "").split("\n").reverse().find((l) =>
  / passed .*\| \d+ failed/.test(l)
);
const passed = Number(/(\d+) passed/.exec(last ?? "")?.[1] ?? 0);
const failed = Number(/(\d+) failed/.exec(last ?? "")?.[1] ?? 0);
const ignored = Number(/(\d+) ignored/.exec(last ?? "")?.[1] ?? 0);
console.log(`${passed} passed, ${failed + (code !== 0 && failed === 0 ? 1 : 0)} failed, ${ignored} skipped`);
Deno.exit(code);
