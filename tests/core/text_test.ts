import { equal } from "node:assert/strict";
import fc from "fast-check";
import { charCount, withinChars } from "../../src/core/text.ts";

Deno.test("text: charCount counts code points, withinChars agrees with it", () => {
  equal(charCount(""), 0);
  equal(charCount("abc"), 3);
  equal(charCount("😀"), 1);
  equal(charCount("a😀b"), 3);
  equal(charCount("\ud83d"), 1, "a lone high surrogate");
  equal(charCount("\ude00\ud83d"), 2, "a low then a high surrogate are no pair");
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.integer({ min: 0, max: 30 }), (s, max) => {
      equal(charCount(s), [...s].length);
      equal(withinChars(s, max), [...s].length <= max);
    }),
  );
});
