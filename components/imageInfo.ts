/**
 * The contract between nix/ and the component: the build's nix-support/image-info.json.
 * The component trusts nothing else about the build output (no globbing for *.img).
 */
export interface ImageInfo {
  /** Absolute path of the raw image in the Nix store. */
  file: string;
  format: "raw";
  /** MiB. */
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
  /** "bios" or "uefi". */
  bootMode: "bios" | "uefi";
}

const STORE_FILE = /^\/nix\/store\/([0-9a-z]{32})-[^/]+\/.+$/;

function fail(rule: string, value: unknown): never {
  throw new Error(`The build's image-info.json is not valid: ${rule}; received ${JSON.stringify(value)}.`);
}

/** Parses the build's stdout and checks every field, so a broken build never reaches Glance. */
export function parseImageInfo(stdout: string, expectedDiskSize?: number): ImageInfo {
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
  if (expectedDiskSize !== undefined && info.diskSize !== expectedDiskSize) {
    fail(`"diskSize" must equal the requested ${expectedDiskSize}`, info.diskSize);
  }
  if (!/^[a-z0-9_]+-[a-z]+$/.test(str("system")))
    fail('"system" must be a Nix system such as "x86_64-linux"', info.system);
  if (typeof info.qemuGuestAgent !== "boolean")
    fail('"qemuGuestAgent" must be a boolean', info.qemuGuestAgent);
  if (info.bootMode !== "bios" && info.bootMode !== "uefi")
    fail('"bootMode" must be "bios" or "uefi"', info.bootMode);
  return {
    file: info.file as string,
    format: "raw",
    diskSize: info.diskSize as number,
    nixosVersion: str("nixosVersion"),
    nixosRelease: str("nixosRelease"),
    kernelVersion: str("kernelVersion"),
    system: info.system as string,
    qemuGuestAgent: info.qemuGuestAgent as boolean,
    bootMode: info.bootMode,
  };
}

/** The 32-character store hash of the image, which makes image names content-addressed. */
export function storeHash(info: ImageInfo): string {
  return STORE_FILE.exec(info.file)![1];
}
