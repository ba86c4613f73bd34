export { NixosImage } from "./nixosImage.ts";
export type { NixosImageArgs, VerifyArgs, Visibility } from "./args.ts";
export type { ImageInfo } from "./imageInfo.ts";
export type { VerificationReport } from "./verify.ts";
export { InvalidArgumentError, resolveArgs, DISK_SIZE_MIN, DISK_SIZE_MAX } from "./validate.ts";
export { argsFromConfig } from "./config.ts";
