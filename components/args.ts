import type { BootMode } from "./imageInfo.ts";

/** The Nix systems the image can be built for (nix/args.nix has the same list). */
export const SYSTEMS = ["x86_64-linux", "aarch64-linux"] as const;
export type NixSystem = (typeof SYSTEMS)[number];

/** Glance's image visibilities. */
export const VISIBILITIES = ["private", "shared", "community", "public"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** The values SCS image metadata (scs-0102) allows for replace_frequency. */
export const REPLACE_FREQUENCIES = [
  "yearly",
  "quarterly",
  "monthly",
  "weekly",
  "daily",
  "critical_bug",
  "never",
] as const;
export type ReplaceFrequency = (typeof REPLACE_FREQUENCIES)[number];

/**
 * Settings of the optional test boot that proves the image works. The server and everything made for it exist
 * only while the check runs (there is no setting to keep them).
 */
export interface VerifyArgs {
  /** Nova flavor of the test instance. Required. */
  flavorName: string;
  /** Neutron network the test instance is attached to. Required. */
  networkName: string;
  /** The only CIDR allowed to reach tcp/22 of the test instance, e.g. "203.0.113.7/32". Required. */
  sshSourceCidr: string;
  /** External network to allocate a floating IP from, attached to the server's port. Default: none (the fixed IP is used). */
  floatingIpPool?: string;
  /** Seconds from server create until SSH must accept the key; the checks run after that. Default 600. */
  timeout?: number;
  /** Ask Nova for a config drive (for clouds without a metadata service). Default false: the cloud decides. */
  configDrive?: boolean;
  /** Fail when the console shows no host key to pin, rather than trust the first key SSH sees. Default true. */
  requireHostKeyPin?: boolean;
  /** A bastion, user@host[:port], that reaches the server's fixed IP (as ssh -J). Default: none. */
  sshProxyJump?: string;
  /** An OpenSSH client config file for the hop to sshProxyJump. Default: the deployer's ~/.ssh/config. */
  sshJumpConfig?: string;
  /** Removed: the test server never outlives the check; a value set fails validation with what to do. */
  keepInstance?: unknown;
}

/**
 * Arguments of a NixosImage. Everything is known when the program runs, so plain types are used. Their rules,
 * defaults and documentation are in settings.ts, which checks at compile time that it accepts exactly these.
 */
export interface NixosImageArgs {
  /** Boot `linuxPackages_latest` (true) or the release's default `linuxPackages` (false). Default true. */
  kernelLatest?: boolean;
  /** Size of the raw disk image: "auto" (make-disk-image sizes it from the closure, with room to spare) or MiB, a whole number from 1024 to 2097152. Default "auto". */
  diskSize?: number | "auto";
  /** Nix system to build for: "x86_64-linux" or "aarch64-linux" (through a builder in nixOptions). Default: the machine's. */
  system?: NixSystem;
  /** How the image boots: "bios", "uefi" or "hybrid" (both). Default: "bios" on x86_64, "uefi" on aarch64 (its only one). */
  bootMode?: BootMode;
  /** Channel root subscribes to on first boot: a name such as "nixos-25.11" or an http(s) URL. Default: derived from nixpkgs. */
  channel?: string;
  /** nixpkgs to build from: a local path or an http(s) tarball URL. Default: the pin in nix/pin.nix. */
  nixpkgs?: string;
  /** The Nix expression (directory or file) to build. Default: this project's nix/. */
  source?: string;
  /** Glance image name. Default: content-addressed, "nixos-<nixosVersion>-<store hash>". */
  imageName?: string;
  /** Glance visibility: private, shared, community or public. Default "private". */
  visibility?: Visibility;
  /** Extra Glance properties, merged over the standard ones (os_distro, os_version, ...). Default none. */
  properties?: Record<string, string>;
  /** Glance tags. Default none. */
  tags?: string[];
  /**
   * Generations of the image family kept in Glance: the newest is visible, older ones hidden (servers that boot
   * by UUID keep working), older than that deleted unless a server uses them or they are protected. Default 3.
   */
  keepGenerations?: number;
  /** Glance's replace_frequency (SCS image metadata): how often a new generation is published. Default "never". */
  replaceFrequency?: ReplaceFrequency;
  /** Glance min_ram: the MiB of memory a server needs to boot the image, at least 64. Default 512. */
  minRamMb?: number;
  /** Removed: keepGenerations replaces it; a value set fails validation with how to migrate. */
  retainOldImages?: unknown;
  /** Project IDs each new generation is shared with (Glance members); needs visibility "shared" (the default then). */
  members?: string[];
  /** Member project ID → cloud (in clouds.yaml) with credentials of that project: the share is accepted there. */
  memberClouds?: Record<string, string>;
  /** Regions of the cloud to publish the same build to, in parallel. Default: the provider's region. */
  regions?: string[];
  /** Extra Nix settings passed as `--option NAME VALUE`, e.g. builders, extra-substituters. Default none. */
  nixOptions?: Record<string, string>;
  /** Minutes nix-build may run before it is killed. Default 120. */
  buildTimeoutMinutes?: number;
  /** Minutes the upload to Glance may take, until the image is active. Default 30. */
  uploadTimeoutMinutes?: number;
  /** Boot a test instance from the image and check SSH as nixos, sudo, and that root is refused. Default: off. */
  verify?: VerifyArgs;
}
