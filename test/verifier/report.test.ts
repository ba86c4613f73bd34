import assert from "node:assert/strict";
import { exitCodeFor, formatHuman, formatJson } from "../../verifier/report.ts";
import type { CheckResult, Report } from "../../verifier/report.ts";

const check = (id: string, name: string, ok: boolean, reason = "because"): CheckResult => ({
  id,
  name,
  ok,
  reason,
});
const report = (checks: CheckResult[]): Report => ({
  host: "10.0.0.5",
  port: 22,
  user: "nixos",
  ok: checks.every((c) => c.ok),
  checks,
});

const failing = report([
  check("ssh-reachable", "SSH reachable on 10.0.0.5:22", true),
  check("root-login-refused", "root login allowed", false, "the server accepted the key for root"),
]);
const unreachable = report([check("ssh-reachable", "SSH unreachable", false)]);
const passing = report([
  check("ssh-reachable", "SSH reachable on 10.0.0.5:22", true),
  check("key-login", "key login as nixos", true),
]);

describe("verifier/report", () => {
  describe("exitCodeFor", () => {
    const cases: [string, Report, number][] = [
      ["a failed check", failing, 1],
      ["an unreachable machine", unreachable, 3],
      ["all checks passed", passing, 0],
    ];
    for (const [title, value, code] of cases) {
      it(`Exits ${code} for ${title}`, () => assert.equal(exitCodeFor(value), code));
    }
  });

  it("Prints a failing check with its reason and names it in the summary", () => {
    assert.equal(
      formatHuman(failing),
      "PASS SSH reachable on 10.0.0.5:22\n" +
        "FAIL root login allowed: the server accepted the key for root\n" +
        "FAILED: 1 of 2 checks on nixos@10.0.0.5:22: root login allowed\n",
    );
  });

  it("Prints one PASS line per check and an OK summary", () => {
    assert.equal(
      formatHuman(passing),
      "PASS SSH reachable on 10.0.0.5:22\nPASS key login as nixos\nOK: all 2 checks passed on nixos@10.0.0.5:22\n",
    );
  });

  it("Prints JSON with exactly host, port, user, ok and checks", () => {
    const parsed = JSON.parse(formatJson({ ...failing, extra: 1 } as Report)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ["host", "port", "user", "ok", "checks"]);
    assert.deepEqual(parsed.checks, failing.checks);
    assert.equal(parsed.ok, false);
  });
});
