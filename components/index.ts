export { NixosImage } from "./nixosImage.ts";
export type { NixosImageArgs, VerifyArgs, Visibility } from "./args.ts";
export type { ImageInfo } from "./imageInfo.ts";
export type { VerificationReport } from "../stages/testboot/declare.ts";
export { InvalidArgumentError, resolveArgs } from "./resolve.ts";
export { DISK_SIZE_MIN, DISK_SIZE_MAX } from "./settings.ts";
export { argsFromConfig } from "./config.ts";
