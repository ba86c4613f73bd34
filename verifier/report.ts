// The result of a verification, and its two printed forms.

export interface CheckResult {
  /** Stable identifier, e.g. "root-login-refused". */
  id: string;
  /** What was found, worded for the outcome: "root login refused" or "root login allowed". */
  name: string;
  ok: boolean;
  /** Why: what was run and what came back. */
  reason: string;
}

export interface Report {
  host: string;
  port: number;
  user: string;
  ok: boolean;
  checks: CheckResult[];
}

export const reachableCheckId = "ssh-reachable";

export const exitCodes = { ok: 0, checkFailed: 1, usage: 2, unreachable: 3 } as const;

export function exitCodeFor(report: Report): number {
  if (report.ok) return exitCodes.ok;
  const reachable = report.checks.find((check) => check.id === reachableCheckId);
  return reachable?.ok === false ? exitCodes.unreachable : exitCodes.checkFailed;
}

/** `PASS key login as nixos` / `FAIL root login allowed: ...`, then a summary line. */
export function formatHuman(report: Report): string {
  const lines = report.checks.map((check) =>
    check.ok ? `PASS ${check.name}` : `FAIL ${check.name}: ${check.reason}`,
  );
  const failed = report.checks.filter((check) => !check.ok);
  lines.push(
    failed.length === 0
      ? `OK: all ${report.checks.length} checks passed on ${report.user}@${report.host}:${report.port}`
      : `FAILED: ${failed.length} of ${report.checks.length} checks on ${report.user}@${report.host}:${report.port}: ${failed.map((check) => check.name).join(", ")}`,
  );
  return `${lines.join("\n")}\n`;
}

export function formatJson(report: Report): string {
  const { host, port, user, ok, checks } = report;
  return `${JSON.stringify({ host, port, user, ok, checks: checks.map(({ id, name, ok, reason }) => ({ id, name, ok, reason })) }, null, 2)}\n`;
}
