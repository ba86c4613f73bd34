// One stack per cloud: Pulumi.<stack>.yaml chooses the cloud (openstack:cloud) and the image settings.
import { argsFromConfig, resolveArgs, NixosImage } from "./components/index.ts";

const PROJECT = "nixos-cloud-image";

// Config errors name the full key (e.g. "nixos-cloud-image:diskSize") and surface before any resource exists.
const args = argsFromConfig(PROJECT);
resolveArgs(args, `${PROJECT}:`);

const image = new NixosImage("nixos", args);

export const imageId = image.imageId;
export const imageIds = image.imageIds;
export const imageName = image.imageName;
export const imagePath = image.imagePath;
export const nixosVersion = image.imageInfo.nixosVersion;
export const kernelVersion = image.imageInfo.kernelVersion;
export const rotationPlan = image.rotationPlan;
export const verification = image.verification;
