// Reaching a machine through a bastion (an SSH jump host), as `ssh -J` does, but with the hop spelled out: the
// connection to the machine keeps its own isolated options, and the hop is an `ssh -W` run with the deployer's
// own OpenSSH configuration (or the file given), in batch mode, so it never prompts.

export interface Jump {
  /** Default: as the hop's OpenSSH configuration says (else the local user name). */
  user?: string;
  host: string;
  /** Default: as the hop's OpenSSH configuration says (else 22). */
  port?: number;
  /** An OpenSSH client config for the hop (`ssh -F`); default the deployer's own ~/.ssh/config. */
  configFile?: string;
}

export function describeJump(jump: Jump): string {
  const host = jump.host.includes(":") ? `[${jump.host}]` : jump.host;
  return `${jump.user === undefined ? "" : `${jump.user}@`}${host}${jump.port === undefined ? "" : `:${jump.port}`}`;
}

/** The hop's ssh arguments: forward stdin/stdout to target:port (`%h`/`%p` in a ProxyCommand). */
export function hopArgs(jump: Jump, target: string, port: string): string[] {
  return [
    ...(jump.configFile === undefined ? [] : ["-F", jump.configFile]),
    // On the command line, so a config's accept-new or no cannot make the bastion trusted on first use.
    ...["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"],
    ...["-o", "LogLevel=ERROR"],
    ...["-o", "ClearAllForwardings=yes", "-o", "ForwardAgent=no"],
    ...(jump.user === undefined ? [] : ["-l", jump.user]),
    ...(jump.port === undefined ? [] : ["-p", String(jump.port)]),
    ...["-W", `[${target}]:${port}`, "--", jump.host],
  ];
}

/**
 * The ProxyCommand for the connection to the machine (ssh runs it with `/bin/sh -c "exec ..."`, so words are
 * quoted). The bastion's words are checked (parseJump, validateConfigFile): no quote, space or `%` reaches here
 * but the `%h`/`%p` that ssh expands.
 */
export function proxyCommand(jump: Jump): string {
  const quote = (word: string) => (/^[A-Za-z0-9._\/=:@%+-]+$/.test(word) ? word : `'${word}'`);
  return ["ssh", ...hopArgs(jump, "%h", "%p").map(quote)].join(" ");
}
