import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { verifySignature, sign } from "@job-rerunner/core";

// GitHub's published test vector ("Validating webhook deliveries").
const SECRET = "It's a Secret to Everybody";
const PAYLOAD = "Hello, World!";
const HEADER = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

describe("verifySignature", () => {
  it("accepts GitHub's published test vector", () => {
    assert.equal(verifySignature(SECRET, PAYLOAD, HEADER), true);
    assert.equal(verifySignature(SECRET, Buffer.from(PAYLOAD), HEADER), true);
    assert.equal(verifySignature(SECRET, new TextEncoder().encode(PAYLOAD), HEADER), true);
    assert.equal(sign(SECRET, PAYLOAD), HEADER);
  });

  it("refuses a wrong secret, a changed body and a changed digest", () => {
    assert.equal(verifySignature("another secret", PAYLOAD, HEADER), false);
    assert.equal(verifySignature(SECRET, PAYLOAD + " ", HEADER), false);
    assert.equal(verifySignature(SECRET, PAYLOAD, HEADER.slice(0, -1) + "f"), false);
  });

  it("checks the raw bytes, not a re-serialization", () => {
    const raw = '{"a":1,  "b":"\\u00e9"}';
    const header = sign(SECRET, raw);
    assert.equal(verifySignature(SECRET, raw, header), true);
    assert.equal(verifySignature(SECRET, JSON.stringify(JSON.parse(raw)), header), false);
  });

  it("refuses sha1-only, missing and malformed headers without throwing", () => {
    const sha1 = "sha1=" + createHmac("sha1", SECRET).update(PAYLOAD).digest("hex");
    for (const bad of [sha1, undefined, null, "", "sha256=", "sha256=zz", HEADER.toUpperCase(), `sha512=${HEADER.slice(7)}`, HEADER + "00", ` ${HEADER}`]) {
      assert.equal(verifySignature(SECRET, PAYLOAD, bad), false, String(bad));
    }
  });

  it("accepts the uppercase hex digest GitHub could send", () => {
    assert.equal(verifySignature(SECRET, PAYLOAD, "sha256=" + HEADER.slice(7).toUpperCase()), true);
  });

  it("accepts any of several secrets (rotation) and refuses an empty list or empty secrets", () => {
    assert.equal(verifySignature(["new secret", SECRET], PAYLOAD, HEADER), true);
    assert.equal(verifySignature([SECRET, "old"], PAYLOAD, HEADER), true);
    assert.equal(verifySignature([], PAYLOAD, HEADER), false);
    assert.equal(verifySignature([""], PAYLOAD, sign("", PAYLOAD)), false);
  });

  it("takes the first value of a repeated header", () => {
    assert.equal(verifySignature(SECRET, PAYLOAD, [HEADER, "sha256=00"]), true);
  });
});
