/**
 * `deno task test`: the unit and end-to-end suites under tests/, then the
 * notebooks on the Deno Jupyter kernel where Jupyter is installed (skipped,
 * and said so, where it is not). Ends with one "N passed, N failed" line.
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

async function run(cmd: string[]): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "inherit" })
    .spawn();
  let out = "";
  const dec = new TextDecoder();
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    out += dec.decode(chunk, { stream: true });
  }
  return { code: (await child.status).code, out };
}

const extra = Deno.args;
const tests = await run([Deno.execPath(), "test", ...TEST_PERMISSIONS, ...extra, "tests/"]);
// deno test's closing line: "ok | 12 passed (3 steps) | 0 failed (4s)"
// deno-lint-ignore no-control-regex
const plain = tests.out.replace(/\x1b\[[0-9;]*m/g, "");
const passed = Number(/(\d+) passed/.exec(plain.slice(plain.lastIndexOf(" passed") - 12))?.[1] ?? 0);
const failed = Number(/(\d+) failed/.exec(plain.slice(plain.lastIndexOf(" failed") - 12))?.[1] ?? 0);
let nbPassed = 0, nbFailed = 0;

const hasJupyter = await new Deno.Command("sh", {
  args: ["-c", "command -v jupyter-nbconvert"],
  stdout: "null",
})
  .output().then((o) => o.success, () => false);
if (extra.length > 0) {
  console.log("notebooks: skipped (test filter given)");
} else if (!hasJupyter) {
  console.log(
    "notebooks: SKIPPED: Jupyter is not installed here (apt-get install jupyter-nbconvert jupyter-client)",
  );
} else {
  const nb = await run([Deno.execPath(), "task", "notebooks"]);
  if (nb.code === 0) nbPassed = 1;
  else nbFailed = 1;
}
const totalFailed = failed + nbFailed + (tests.code !== 0 && failed === 0 ? 1 : 0);
console.log(`${passed + nbPassed} passed, ${totalFailed} failed`);
Deno.exit(tests.code !== 0 || nbFailed ? 1 : 0);
