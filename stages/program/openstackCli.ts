// The one client of the test boot: openstacksdk's `openstack` CLI (python-openstackclient). The stack's
// provider settings become the OS_* variables that the CLI and the Pulumi provider both understand; they
// go into the child's environment, never into argv, so `ps` and error messages show no password.
import { execa } from "execa";

/** @pulumi/openstack's provider settings and the environment variable each one corresponds to. */
const ENV_OF: Record<string, string> = {
  cloud: "OS_CLOUD",
  authUrl: "OS_AUTH_URL",
  userName: "OS_USERNAME",
  userId: "OS_USER_ID",
  password: "OS_PASSWORD",
  tenantName: "OS_PROJECT_NAME",
  tenantId: "OS_PROJECT_ID",
  userDomainName: "OS_USER_DOMAIN_NAME",
  userDomainId: "OS_USER_DOMAIN_ID",
  projectDomainName: "OS_PROJECT_DOMAIN_NAME",
  projectDomainId: "OS_PROJECT_DOMAIN_ID",
  domainName: "OS_DOMAIN_NAME",
  domainId: "OS_DOMAIN_ID",
  defaultDomain: "OS_DEFAULT_DOMAIN",
  region: "OS_REGION_NAME",
  cacertFile: "OS_CACERT",
  cert: "OS_CERT",
  key: "OS_KEY",
  endpointType: "OS_INTERFACE",
  token: "OS_TOKEN",
  applicationCredentialId: "OS_APPLICATION_CREDENTIAL_ID",
  applicationCredentialName: "OS_APPLICATION_CREDENTIAL_NAME",
  applicationCredentialSecret: "OS_APPLICATION_CREDENTIAL_SECRET",
};

/** Values that are secrets: masked wherever a command's output is quoted. */
const SECRET_SETTINGS = ["password", "token", "applicationCredentialSecret"];

export interface Cli {
  /** Runs `openstack ARGS -f json` and parses the document. */
  json<T = any>(args: string[], opts?: { signal?: AbortSignal }): Promise<T>;
  /** Runs `openstack ARGS` and returns stdout. */
  text(args: string[], opts?: { signal?: AbortSignal }): Promise<string>;
}

/** The environment the CLI runs with: the caller's, with the stack's provider settings over it (as the provider does). */
export function cliEnvironment(settings: Record<string, string>, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [name, value] of Object.entries(settings)) {
    const variable = ENV_OF[name];
    if (variable !== undefined) env[variable] = value;
  }
  if (settings.token !== undefined) env.OS_AUTH_TYPE = "token";
  if (settings.applicationCredentialSecret !== undefined) env.OS_AUTH_TYPE = "v3applicationcredential";
  return env;
}

/** Global options that are flags, not variables. */
export function cliGlobalArgs(settings: Record<string, string>): string[] {
  return settings.insecure === "true" ? ["--insecure"] : [];
}

/** Replaces every secret setting in `text` with "[secret]". */
export function maskSecrets(text: string, settings: Record<string, string>): string {
  let masked = text;
  for (const name of SECRET_SETTINGS) {
    const value = settings[name];
    if (value) masked = masked.split(value).join("[secret]");
  }
  return masked;
}

export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export function openstackCli(settings: Record<string, string>, base: NodeJS.ProcessEnv = process.env): Cli {
  const env = cliEnvironment(settings, base);
  const global = cliGlobalArgs(settings);
  const run = async (args: string[], signal?: AbortSignal) => {
    const result = await execa("openstack", [...global, ...args], {
      env,
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      ...(signal === undefined ? {} : { cancelSignal: signal }),
    });
    if (result.code === "ENOENT") {
      throw new CliError(
        "the openstack CLI was not found on PATH: install python-openstackclient (Debian: python3-openstackclient)",
        "",
      );
    }
    if (result.isCanceled) throw new CliError(`openstack ${args[0]} ${args[1] ?? ""} was interrupted`, "");
    if (result.exitCode !== 0) {
      const stderr = maskSecrets(String(result.stderr).trim(), settings);
      const last = stderr.split("\n").filter(Boolean).pop() ?? `exit ${result.exitCode}`;
      throw new CliError(`openstack ${args.slice(0, 2).join(" ")} failed: ${last}`, stderr);
    }
    return String(result.stdout);
  };
  return {
    json: async (args, opts) => JSON.parse((await run([...args, "-f", "json"], opts?.signal)) || "null"),
    text: (args, opts) => run(args, opts?.signal),
  };
}

/**
 * A field of `openstack image show`: the CLI (python-openstackclient 6) moves the fields it does not know, such as
 * os_hidden and os_hash_value, into "properties".
 */
export function imageField(image: Record<string, unknown>, name: string): unknown {
  if (name in image) return image[name];
  const properties = image.properties as Record<string, unknown> | undefined;
  return properties?.[name];
}
