import assert from "node:assert/strict";
import { matchingKeys, parseFingerprint } from "../../verifier/hostkey.ts";

const a = `SHA256:${"a".repeat(43)}`;
const b = `SHA256:${"b".repeat(43)}`;
const keys = [
  { line: "[h]:22 ssh-ed25519 AAAA1", fingerprint: a },
  { line: "[h]:22 ecdsa-sha2-nistp256 AAAA2", fingerprint: b },
];

describe("verifier/hostkey", () => {
  it("Matches no key when the pinned fingerprint is another one", () => {
    assert.deepEqual(matchingKeys(keys, `SHA256:${"c".repeat(43)}`), []);
  });

  it("Matches the key whose fingerprint is pinned, with or without base64 padding", () => {
    assert.deepEqual(matchingKeys(keys, b), [keys[1]]);
    assert.deepEqual(matchingKeys(keys, `${b}=`), [keys[1]]);
  });

  const outputs: [string, string | undefined][] = [
    ["(stdin) is not a public key file.", undefined],
    [`256 ${a} [127.0.0.1]:2222 (ED25519)`, a],
    [`256 ${a}= comment (ED25519)`, a],
  ];
  for (const [output, fingerprint] of outputs) {
    it(`Reads ${String(fingerprint)} from "${output}"`, () =>
      assert.equal(parseFingerprint(output), fingerprint));
  }
});
