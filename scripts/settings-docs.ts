// `npm run settings`: writes Pulumi.yaml's `config:` block, README's settings table and the descriptions of the
// package's inputs (components/package/args.ts, which Pulumi's schema inference reads) from the settings'
// definitions (components/settings.ts), so none is edited by hand. All are checked in, and a unit test fails
// when one is not what this writes (test/components/settings.test.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SETTINGS, VERIFY_ABOUT } from "../components/settings.ts";
import type { Setting } from "../components/settings.ts";

const ROOT = new URL("../", import.meta.url);
const WIDTH = 116;

/** The default Pulumi.yaml declares: the rule's own, or "not set" ("", [], {}), which config.ts reads as unset. */
function declaredDefault(setting: Setting): unknown {
  const fallback = (setting.rule as { default?: unknown }).default;
  if (fallback !== undefined && typeof fallback !== "function") return fallback;
  return setting.type === "string" ? "" : setting.type === "array" ? [] : {};
}

/** What a setting does when not set, in words (Markdown). */
function unsetText(setting: Setting): string {
  if (setting.unset !== undefined) return setting.unset;
  const fallback = declaredDefault(setting);
  return typeof fallback === "object" ? "none" : `\`${String(fallback)}\``;
}

const plain = (text: string) => text.replace(/[`*]/g, "");
/** A sentence, unless it starts with a value (`x86_64-linux`), which keeps its case. */
const sentence = (markdown: string) =>
  markdown.startsWith("`") ? plain(markdown) : `${markdown[0].toUpperCase()}${plain(markdown.slice(1))}.`;

/** Pulumi.yaml's description: the meaning and the default, without Markdown. */
function description(setting: Setting): string {
  return `${sentence(setting.about).replace(/\.$/, "")}. Default: ${plain(unsetText(setting))}.`;
}

function scalar(value: unknown): string {
  return typeof value === "string" && /^[a-z]+$/.test(value) ? value : JSON.stringify(value);
}

/** Words folded into lines of at most WIDTH characters (a YAML folded scalar joins them with spaces again). */
function fold(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  return [...lines, indent + line];
}

/** Pulumi.yaml's `config:` block, the settings in their order. */
export function configBlock(): string {
  const lines = ["config:"];
  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting][]) {
    if (setting.untyped) lines.push(`  # No type: ${setting.untyped}`);
    lines.push(`  ${key}:`);
    if (setting.type === "array") lines.push("    type: array", "    items:", "      type: string");
    else if (setting.type) lines.push(`    type: ${setting.type}`);
    lines.push(`    default: ${scalar(declaredDefault(setting))}`);
    const text = description(setting);
    const oneLine = `    description: ${text}`;
    if (oneLine.length <= WIDTH && !/: | #|^["'>|]/.test(text)) lines.push(oneLine);
    else lines.push("    description: >-", ...fold(text, "      "));
  }
  return lines.join("\n") + "\n";
}

/** README's settings table. */
export function settingsTable(): string {
  const rows = (Object.entries(SETTINGS) as [string, Setting][]).map(
    ([key, setting]) => `| \`${key}\` | ${unsetText(setting)} | ${setting.about} |`,
  );
  return ["| key | default | meaning |", "|---|---|---|", ...rows].join("\n") + "\n";
}

const START = "<!-- settings table: written by `npm run settings` from components/settings.ts -->\n";
const END = "<!-- end of settings table -->\n";

/** Pulumi.yaml with its `config:` block (the file's last) as the settings say. */
export function pulumiYaml(current: string): string {
  const at = current.search(/^config:$/m);
  if (at < 0) throw new Error("Pulumi.yaml has no config: block");
  return current.slice(0, at) + configBlock();
}

/** README with the table between its markers as the settings say. */
export function readme(current: string): string {
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  if (start < 0 || end < start) throw new Error("README.md has no settings table markers");
  return current.slice(0, start + START.length) + settingsTable() + current.slice(end);
}

/** One interface's members, each with its description as a doc comment; every key must be there, no other. */
function describeMembers(source: string, name: string, texts: Record<string, string>): string {
  const open = source.indexOf(`export interface ${name} {\n`);
  const close = source.indexOf("\n}\n", open);
  if (open < 0 || close < 0) throw new Error(`components/package/args.ts has no interface ${name}`);
  const seen: string[] = [];
  const body = source
    .slice(open, close)
    .replace(/(?:\n  \/\*\*[^]*?\*\/)?\n  (\w+)(\??: [^\n]+;)/g, (_, key: string, rest: string) => {
      if (!(key in texts)) throw new Error(`components/package/args.ts: ${name}.${key} is no setting`);
      seen.push(key);
      return `\n  /** ${texts[key]} */\n  ${key}${rest}`;
    });
  const missing = Object.keys(texts).filter((key) => !seen.includes(key));
  if (missing.length > 0)
    throw new Error(`components/package/args.ts: ${name} lacks ${missing.join(", ")}: add each as an input`);
  return source.slice(0, open) + body + source.slice(close);
}

/** The package's inputs described as the settings say (`packageAbout` where the package writes one differently). */
export function packageArgs(current: string): string {
  const settings = Object.fromEntries(
    (Object.entries(SETTINGS) as [string, Setting][]).map(([key, setting]) => [
      key,
      setting.packageAbout ? sentence(setting.packageAbout) : description(setting),
    ]),
  );
  const verify = Object.fromEntries(
    Object.entries(VERIFY_ABOUT).map(([key, about]) => [key, sentence(about)]),
  );
  return describeMembers(
    describeMembers(current, "NixosImagePackageArgs", settings),
    "VerifySettings",
    verify,
  );
}

export const FILES = {
  "Pulumi.yaml": pulumiYaml,
  "README.md": readme,
  "components/package/args.ts": packageArgs,
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, render] of Object.entries(FILES)) {
    const url = new URL(file, ROOT);
    const current = readFileSync(url, "utf8");
    const next = render(current);
    if (next !== current) writeFileSync(url, next);
    console.log(`${file}: ${next === current ? "current" : "written"}`);
  }
}
