// NixosImage as the package's component: the same component, with the arguments and outputs other languages
// can use. The class is what `pulumi package add` and the package's host see (pulumi-package/ exports it).
import * as pulumi from "@pulumi/pulumi";
import type { NixosImageArgs } from "../args.ts";
import { NixosImage as ProgramNixosImage } from "../nixosImage.ts";
import type { ImageInfo } from "../imageInfo.ts";
import { toNixosImageArgs } from "./args.ts";
import type { NixosImagePackageArgs } from "./args.ts";

/** One check of the test boot. */
export interface VerificationCheck {
  /** Stable identifier, e.g. "root-login-refused". */
  id: string;
  /** What was found, worded for the outcome, e.g. "root login refused". */
  name: string;
  /** Whether the check passed. */
  ok: boolean;
  /** What was run and what came back. */
  reason: string;
}

/** Seconds each part of the test boot took. */
export interface VerificationTimings {
  /** From server create to ACTIVE. */
  serverActive: number;
  /** To the end of the checks (boot, SSH and the checks). */
  checked: number;
  /** Removing the server and everything made for it. */
  cleanup: number;
  /** All of it. */
  total: number;
}

/** What the test boot found. */
export interface VerificationReport {
  /** True when every check passed. */
  ok: boolean;
  /** The Glance image that was booted. */
  imageId: string;
  /** The (deleted) test server. */
  serverId: string;
  /** The address SSH reached. */
  host: string;
  /** The SSH port. */
  port: number;
  /** The user that logged in. */
  user: string;
  /** Each check with its outcome. */
  checks: VerificationCheck[];
  /** Seconds each part took. */
  timings: VerificationTimings;
  /** The host key pinned from the server's console (SHA256:...), unset when the console printed none. */
  hostKeyPinned?: string;
  /** What an interrupted earlier run had left and this run removed. */
  leftoversRemoved?: string;
  /** Set when these bytes had passed before (when and on which server): nothing booted this time. */
  alreadyVerified?: string;
}

/**
 * Pulumi infers the schema from the class that the package exports: its constructor's `args` must be an
 * interface every language can write, and the class must extend ComponentResource itself. The program's
 * NixosImage is reused as the base, seen through a constructor type whose instances are ComponentResources,
 * so the package registers the very same component and children (same type, same names) as a TypeScript
 * program does, with no wrapper around it.
 */
const Component: new (
  name: string,
  args: NixosImageArgs,
  opts?: pulumi.ComponentResourceOptions,
) => pulumi.ComponentResource = ProgramNixosImage;

/**
 * A NixOS raw image built with nix-build, published to OpenStack Glance (in each of `regions`) as a new
 * generation and, when `verify` is set, proven by a test boot that leaves nothing behind, before it is made
 * visible, shared, and older generations are rotated.
 */
export class NixosImage extends Component {
  // `declare`: the base class assigns these; a plain field declaration would reset them to undefined.
  /** Glance ID of the newest generation (in the first region, when regions are set). */
  declare public readonly imageId: pulumi.Output<string>;
  /** Region to the Glance ID of the newest generation there. */
  declare public readonly imageIds: pulumi.Output<Record<string, string>>;
  /** Glance name of the published image. */
  declare public readonly imageName: pulumi.Output<string>;
  /** The built raw file in the Nix store. */
  declare public readonly imagePath: pulumi.Output<string>;
  /** NixOS version of the image, e.g. 25.11.20251204.abcdef0. */
  public readonly nixosVersion: pulumi.Output<string>;
  /** Kernel version of the image. */
  public readonly kernelVersion: pulumi.Output<string>;
  /** The test boot's report (checks, timings); unset when verify is not set. */
  declare public readonly verification: pulumi.Output<VerificationReport | undefined>;

  constructor(name: string, args: NixosImagePackageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(name, toNixosImageArgs(args), opts);
    const info: pulumi.Output<ImageInfo> = (this as unknown as ProgramNixosImage).imageInfo;
    this.nixosVersion = info.nixosVersion;
    this.kernelVersion = info.kernelVersion;
  }
}
