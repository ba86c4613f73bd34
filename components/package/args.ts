// The arguments of NixosImage as other Pulumi languages see them. Pulumi infers the package's schema from this
// interface, and every language must be able to write each input: so no unions (except T | undefined), no
// functions, no resource references, enumerations as plain strings. Each doc comment becomes the input's
// description in the schema and in the generated SDKs; the members' comments are written by `npm run settings`
// from components/settings.ts (edit them there). Every value is checked by the component's own
// validation (resolveArgs), so a bad value from YAML or Python gets the same message as from stack config.
import type { NixosImageArgs } from "../args.ts";

/** Settings of the optional test boot that proves the image works before it is made visible. */
export interface VerifySettings {
  /** Nova flavor of the test server. */
  flavorName: string;
  /** Neutron network the test server is attached to. */
  networkName: string;
  /** The only CIDR allowed to reach tcp/22 of the test server, e.g. "203.0.113.7/32". */
  sshSourceCidr: string;
  /** External network to take a floating IP from, attached to the server's port and released when the check ends. Default: none (the fixed IP is used). */
  floatingIpPool?: string;
  /** Seconds from server create until SSH must accept the key; the checks run after that. Default: 600. */
  timeout?: number;
  /** True asks Nova for a config drive, which carries the key where the cloud has no metadata service. Default: false (the cloud decides: the key comes through the metadata service unless Nova forces a drive). */
  configDrive?: boolean;
  /** The check fails when the server's console shows no host key fingerprint to pin (the NixOS image prints them), rather than trust the first key SSH is shown. Default: true. */
  requireHostKeyPin?: boolean;
  /** A bastion, user@host[:port], that reaches the server's fixed IP (as ssh -J); the hop logs in as you do (your ~/.ssh/config, agent and known_hosts, never prompting). Default: none. */
  sshProxyJump?: string;
  /** An OpenSSH client config file for the hop to sshProxyJump (its IdentityFile, UserKnownHostsFile, ...). Default: your own ~/.ssh/config. */
  sshJumpConfig?: string;
}

/** Arguments of a NixosImage used from another Pulumi program (TypeScript, YAML, Python, ...). */
export interface NixosImagePackageArgs {
  /** Boot linuxPackages_latest (true) or the NixOS release's default linuxPackages (false). Default: true. */
  kernelLatest?: boolean;
  /** Raw disk size in MiB, a whole number from 1024 to 2097152; Glance min_disk is derived from the size built. Default: unset, sized by the build (the closure plus about 1 GiB of room), as auto in stack config. */
  diskSize?: number;
  /** Nix system to build for: x86_64-linux or aarch64-linux (build it with a builder for it in nixOptions); Glance architecture. Default: the machine's. */
  system?: string;
  /** How the image boots: bios, uefi (Glance hw_firmware_type=uefi, and hw_machine_type=q35 on x86_64) or hybrid (boots with either). Default: bios (uefi on aarch64). */
  bootMode?: string;
  /** The channel instances subscribe to for nixos-rebuild: a name (nixos-25.11, nixos-unstable) or a URL; required when nixpkgs is a git checkout or GitHub tarball. Default: derived from nixpkgs. */
  channel?: string;
  /** The nixpkgs to build from: a local path or an http(s) tarball URL. Default: the pin (nix/pin.nix). */
  nixpkgs?: string;
  /** The Nix expression to build (a directory or file with the same arguments). Default: nix/. */
  source?: string;
  /** Glance name. Default: nixos-<version>-<store hash>. */
  imageName?: string;
  /** Glance visibility: private, shared, community or public; shared when members are set. Default: private (shared with members). */
  visibility?: string;
  /** Extra Glance properties (a map of strings); they may not set the standard ones (the component's list is in components/properties.ts). Default: none. */
  properties?: Record<string, string>;
  /** Glance tags. Default: none. */
  tags?: string[];
  /** Promoted generations kept in Glance, 1–100: the newest visible, the others hidden (still bootable by UUID); older ones deleted unless they must stay (Glance uuid_validity=last-N). Default: 3. */
  keepGenerations?: number;
  /** Glance replace_frequency (SCS): yearly, quarterly, monthly, weekly, daily, critical_bug or never. Default: never. */
  replaceFrequency?: string;
  /** Glance min_ram: MiB of memory a server needs to boot the image, 64 or more. Default: 512. */
  minRamMb?: number;
  /** Project IDs (32 hex digits, or UUIDs) each new generation is shared with (Glance members). Default: none. */
  members?: string[];
  /** Member project ID → a cloud in clouds.yaml with that project's credentials: the share is accepted there. Default: none. */
  memberClouds?: Record<string, string>;
  /** Regions of the cloud to publish each build to, in parallel, e.g. [RegionOne, RegionTwo]. Default: the provider's. */
  regions?: string[];
  /** Nix settings passed as --option NAME VALUE (builders, extra-substituters, extra-trusted-public-keys, max-jobs, ...). Default: none. */
  nixOptions?: Record<string, string>;
  /** Minutes nix-build may run before it is killed. Default: 120. */
  buildTimeoutMinutes?: number;
  /** Minutes the upload to Glance may take, until the image is active. Default: 30. */
  uploadTimeoutMinutes?: number;
  /** A test boot of each new image before visibility is applied: SSH as nixos with the instance key, passwordless sudo, root refused; the server and everything made for it are deleted when the check ends. Default: off. */
  verify?: VerifySettings;
}

/**
 * The component's own arguments. Values are passed on as they came (even of the wrong type) for resolveArgs to
 * judge; only what this interface writes differently is translated: an unset diskSize is "auto".
 */
export function toNixosImageArgs(args: NixosImagePackageArgs | undefined): NixosImageArgs {
  const given = Object.fromEntries(Object.entries(args ?? {}).filter(([, value]) => value !== undefined));
  return { diskSize: "auto", ...given } as NixosImageArgs;
}
