import assert from "node:assert/strict";
import { redactUri } from "../../src/core/uri.ts";

Deno.test("a URI's password is never shown, whatever its scheme", () => {
  assert.equal(
    redactUri("postgresql://orchard:s3cret@127.0.0.1:5432/db"),
    "postgresql://orchard:***@127.0.0.1:5432/db",
  );
  assert.equal(redactUri("postgresql://orchard@h/db"), "postgresql://orchard@h/db");
  // any scheme's password, an empty user name too (Redis's redis://:password@host)
  assert.equal(redactUri("redis://:s3cret@127.0.0.1:6379"), "redis://:***@127.0.0.1:6379");
  assert.equal(redactUri("rediss://u:p%40ss@h:6380/1"), "rediss://u:***@h:6380/1");
  assert.equal(redactUri("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
});
