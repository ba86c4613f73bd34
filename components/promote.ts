import * as pulumi from "@pulumi/pulumi";
import type * as openstack from "@pulumi/openstack";
import { local } from "@pulumi/command";
import type { Visibility } from "./args.ts";
import { shellQuote } from "./shell.ts";
import { projectPath } from "./source.ts";
import { providerSettings, TESTBOOT_BIN } from "./verify.ts";
import type { PromoteRequest } from "../testboot/request.ts";

/**
 * With `verify`, the image is created private and this applies `visibility` only after the check passed
 * (it depends on the verify Command, which fails when a check does). It runs for each new image and when
 * the visibility setting changes (also back to private, which is why it exists for private images too).
 */
export function promoteImage(
  name: string,
  visibility: Visibility,
  image: openstack.images.Image,
  verified: local.Command,
  parent: pulumi.Resource,
): local.Command {
  const request = image.id.apply((imageId) => {
    const doc: PromoteRequest = { imageId, visibility, openstack: providerSettings() };
    return JSON.stringify(doc);
  });
  return new local.Command(
    `${name}-promote`,
    {
      create: `exec node ${shellQuote(projectPath(TESTBOOT_BIN))} promote`,
      stdin: pulumi.secret(request),
      triggers: [image.id],
      logging: "stderr",
      addPreviousOutputInEnv: false,
    },
    { parent, dependsOn: [verified] },
  );
}
