// Promotion of a new generation: only an upload Glance holds byte for byte (its SHA-512, os_hash_value, equals
// the built file's) is made visible. The provider checks only MD5, and only against what it sent.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Cli } from "./openstackCli.ts";
import type { PromoteRequest } from "./request.ts";

/** SHA-512 of a file, streamed (images are GiBs). */
export async function sha512Of(file: string): Promise<string> {
  const hash = createHash("sha512");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function promote(cli: Cli, req: PromoteRequest, log: (line: string) => void): Promise<void> {
  const [local, image] = await Promise.all([
    sha512Of(req.file),
    cli.json<{ os_hash_algo?: string; os_hash_value?: string }>(["image", "show", req.imageId]),
  ]);
  if (image.os_hash_algo !== "sha512" || image.os_hash_value !== local) {
    throw new Error(
      `Glance's hash of image ${req.imageId} (${image.os_hash_algo ?? "no algorithm"}: ` +
        `${image.os_hash_value ?? "none"}) is not the SHA-512 of ${req.file} (${local}): the upload is not ` +
        "the file built. The image stays private and hidden; the next `pulumi up` uploads it again.",
    );
  }
  log(`image ${req.imageId}: Glance's SHA-512 matches the built file`);
  await cli.text(["image", "set", `--${req.visibility}`, "--unhidden", req.imageId]);
  log(`image ${req.imageId} is now ${req.visibility}`);
}
