// Promotion of a new generation: only an upload Glance holds byte for byte (its SHA-512, os_hash_value, equals
// the built file's) is made visible. The provider checks only MD5, and only against what it sent.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { removeMembers } from "./generations.ts";
import { imageField } from "./openstackCli.ts";
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
    cli.json<Record<string, unknown>>(["image", "show", req.imageId]),
  ]);
  const algo = imageField(image, "os_hash_algo");
  const value = imageField(image, "os_hash_value");
  if (algo !== "sha512" || value !== local) {
    throw new Error(
      `Glance's hash of image ${req.imageId} (${String(algo ?? "no algorithm")}: ` +
        `${String(value ?? "none")}) is not the SHA-512 of ${req.file} (${local}): the upload is not ` +
        "the file built. The image stays private and hidden; the next `pulumi up` checks it again, and " +
        "`pulumi up --replace <the image's URN>` uploads it anew.",
    );
  }
  log(`image ${req.imageId}: Glance's SHA-512 matches the built file`);
  if (image.visibility === "shared" && req.visibility !== "shared") {
    // Members stay on an image that stops being shared (dormant, Glance no longer lists them) and would be back
    // with the next "shared": remove them while they can still be seen.
    for (const member of await removeMembers(cli, req.imageId, [])) {
      log(`removed member ${member} from image ${req.imageId}: it is no longer shared`);
    }
  }
  await cli.text(["image", "set", `--${req.visibility}`, "--unhidden", req.imageId]);
  log(`image ${req.imageId} is now ${req.visibility}`);
}
