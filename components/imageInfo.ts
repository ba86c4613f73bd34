/**
 * The contract between nix/ and the component: the build's nix-support/image-info.json, documented in
 * docs/image-info.md. The component trusts nothing else about the build output (no globbing for *.img).
 */
export interface ImageInfo {
  /** Absolute path of the raw image in the Nix store. */
  file: string;
  format: "raw";
  /** MiB: the size of the file built (with diskSize "auto", the closure plus headroom). */
  diskSize: number;
  /** config.system.nixos.version, e.g. "25.05.20250612.abcdef0". */
  nixosVersion: string;
  /** config.system.nixos.release, e.g. "25.05". */
  nixosRelease: string;
  kernelVersion: string;
  /** Nix system double, e.g. "x86_64-linux". */
  system: string;
  /** Whether the image runs the QEMU guest agent. */
  qemuGuestAgent: boolean;
  /** How the image boots. */
  bootMode: BootMode;
  /** URL of the channel root subscribes to on first boot. */
  channel: string;
}

export const BOOT_MODES = ["bios", "uefi", "hybrid"] as const;
export type BootMode = (typeof BOOT_MODES)[number];

/** What the build was asked for; image-info.json must agree with each value given. */
export interface ExpectedImage {
  /** MiB; undefined for "auto", whose size only the build knows. */
  diskSize?: number;
  bootMode?: BootMode;
  system?: string;
}

const STORE_FILE = /^\/nix\/store\/([0-9a-z]{32})-[^/]+\/.+$/;

function fail(rule: string, value: unknown): never {
  throw new Error(`The build's image-info.json is not valid: ${rule}; received ${JSON.stringify(value)}.`);
}

/** Parses the build's stdout and checks every field, so a broken build never reaches Glance. */
export function parseImageInfo(stdout: string, expected: ExpectedImage = {}): ImageInfo {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    fail("the build must print one JSON document on stdout", stdout.slice(0, 200));
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) fail("it must be a JSON object", doc);
  const info = doc as Record<string, unknown>;
  const str = (key: string) => {
    if (typeof info[key] !== "string" || info[key] === "")
      fail(`"${key}" must be a non-empty string`, info[key]);
    return info[key] as string;
  };
  if (!STORE_FILE.test(str("file"))) fail('"file" must be an absolute path inside /nix/store', info.file);
  if (info.format !== "raw") fail('"format" must be "raw"', info.format);
  if (typeof info.diskSize !== "number" || !Number.isInteger(info.diskSize) || info.diskSize <= 0) {
    fail('"diskSize" must be a positive whole number of MiB', info.diskSize);
  }
  if (expected.diskSize !== undefined && info.diskSize !== expected.diskSize) {
    fail(`"diskSize" must equal the requested ${expected.diskSize}`, info.diskSize);
  }
  if (!/^[a-z0-9_]+-[a-z]+$/.test(str("system")))
    fail('"system" must be a Nix system such as "x86_64-linux"', info.system);
  if (expected.system !== undefined && info.system !== expected.system)
    fail(`"system" must equal the requested "${expected.system}"`, info.system);
  if (typeof info.qemuGuestAgent !== "boolean")
    fail('"qemuGuestAgent" must be a boolean', info.qemuGuestAgent);
  if (!(BOOT_MODES as readonly unknown[]).includes(info.bootMode))
    fail(`"bootMode" must be one of ${BOOT_MODES.map((m) => `"${m}"`).join(", ")}`, info.bootMode);
  if (expected.bootMode !== undefined && info.bootMode !== expected.bootMode)
    fail(`"bootMode" must equal the requested "${expected.bootMode}"`, info.bootMode);
  if (!/^https?:\/\/\S+$/.test(str("channel"))) fail('"channel" must be an http(s) URL', info.channel);
  return {
    file: info.file as string,
    format: "raw",
    diskSize: info.diskSize as number,
    nixosVersion: str("nixosVersion"),
    nixosRelease: str("nixosRelease"),
    kernelVersion: str("kernelVersion"),
    system: info.system as string,
    qemuGuestAgent: info.qemuGuestAgent as boolean,
    bootMode: info.bootMode as BootMode,
    channel: info.channel as string,
  };
}

/** The store path that holds the image file (/nix/store/<hash>-<name>). */
export function storePathOf(file: string): string {
  return file.split("/").slice(0, 4).join("/");
}

/** The 32-character store hash of the image, which makes image names content-addressed. */
export function storeHash(info: ImageInfo): string {
  return STORE_FILE.exec(info.file)![1];
}
