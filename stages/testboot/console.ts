// Reading the guest's serial console (Nova's console output): host key fingerprints to pin, and the tail
// that goes with a failure.

export interface ConsoleFingerprint {
  /** `SHA256:` and 43 base64 characters. */
  fingerprint: string;
  /** ED25519, ECDSA, RSA, ... */
  type: string;
}

/** cloud-init (and many images) print `ssh-keygen -l` lines, e.g. `256 SHA256:abc... root@host (ED25519)`. */
const KEYGEN_LINE = /\b\d{3,5} (SHA256:[A-Za-z0-9+/]{43})=?(?: .*)? \(([A-Z0-9-]+)\)\s*$/;

/** Pinning prefers the strongest key type the verifier's ssh-keyscan also offers. */
const PREFERENCE = ["ED25519", "ECDSA", "RSA"];

/**
 * The host key fingerprints the console shows. Inside cloud-init's "BEGIN SSH HOST KEY FINGERPRINTS" block when
 * there is one (so a fingerprint quoted elsewhere, e.g. of a user's key, is not taken for the host's).
 */
export function consoleFingerprints(log: string): ConsoleFingerprint[] {
  const lines = log.split(/\r?\n/);
  const begin = lines.findIndex((l) => l.includes("BEGIN SSH HOST KEY FINGERPRINTS"));
  const end = lines.findIndex((l, i) => i > begin && l.includes("END SSH HOST KEY FINGERPRINTS"));
  const scope = begin >= 0 ? lines.slice(begin + 1, end >= 0 ? end : undefined) : lines;
  const found = new Map<string, ConsoleFingerprint>();
  for (const line of scope) {
    const match = KEYGEN_LINE.exec(line);
    if (match) found.set(match[1], { fingerprint: match[1], type: match[2] });
  }
  return [...found.values()];
}

/** The one fingerprint to pin: the most preferred type among those printed. */
export function fingerprintToPin(prints: readonly ConsoleFingerprint[]): ConsoleFingerprint | undefined {
  const rank = (p: ConsoleFingerprint) => {
    const i = PREFERENCE.indexOf(p.type);
    return i < 0 ? PREFERENCE.length : i;
  };
  return [...prints].sort((a, b) => rank(a) - rank(b))[0];
}

/**
 * Signs that the guest has finished booting (so no fingerprints will follow): cloud-init's end where cloud-init
 * runs, else a login prompt. Where it runs, getty's prompt comes before cloud-init's final stage, and that stage
 * is the one that prints the host keys.
 */
export function bootFinished(log: string): boolean {
  if (/Cloud-init v\. \S+ running/.test(log)) return /Cloud-init v\. \S+ finished at/.test(log);
  return /\blogin: *$/m.test(log);
}

/**
 * The firmware's own word that it found nothing to boot (SeaBIOS; OVMF, e.g. a BIOS-only disk given
 * hw_firmware_type=uefi): no operating system will follow, so waiting out the timeout would tell nothing more.
 */
const NOTHING_TO_BOOT = [
  /No bootable device/,
  /Boot failed: not a bootable disk/,
  /BdsDxe: No bootable option or device was found/,
  /UEFI Interactive Shell/,
];

/** The console line in which the firmware says it found nothing to boot, if it did. */
export function nothingToBoot(log: string): string | undefined {
  const lines = consoleTail(log, Number.MAX_SAFE_INTEGER);
  return lines.find((line) => NOTHING_TO_BOOT.some((pattern) => pattern.test(line)))?.trim();
}

/** The last `count` non-empty lines, without terminal control sequences. */
export function consoleTail(log: string, count = 40): string[] {
  // Terminal control sequences go, also those whose ESC the console lost on the way ("[0;32m  OK  [0m]").
  return log
    .replace(/\x1b?\[[0-9;?=]*[A-Za-z]/g, "")
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l !== "")
    .slice(-count);
}
