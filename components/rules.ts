// The rules settings and request documents are checked by, as valibot schemas whose every message is the rule in
// the house's words ("a whole number of MiB from 64 to 4194304"): an error says the key, that rule and the value
// received, whatever part of the schema refused it. valibot is small and lets each message be set, nothing added.
import { isIP } from "node:net";
import * as v from "valibot";
import { parseJump, validateConfigFile } from "../verifier/args.ts";

/** A schema whose issues' messages are rules; input and output are the same type unless a default fills in. */
export type Rule<TIn, TOut = TIn> = v.GenericSchema<TIn, TOut>;

/** The first refusal of a value: which key (its path from the top), what rule, what it was given. */
export interface Refusal {
  key: string;
  rule: string;
  value: unknown;
}

/** A key path as a user writes it: `verify.timeout`, `members[1]`, `properties.os_hidden`. */
function keyOf(path: v.IssuePathItem[] | undefined): string {
  let key = "";
  for (const item of path ?? []) {
    const k = item.key as string | number;
    key += typeof k === "number" ? `[${k}]` : key === "" ? k : `.${k}`;
  }
  return key;
}

/** Parses `value`, or returns the first refusal. */
export function check<TIn, TOut>(
  schema: Rule<TIn, TOut>,
  value: unknown,
): { ok: true; value: TOut } | { ok: false; refusal: Refusal } {
  const result = v.safeParse(schema, value);
  if (result.success) return { ok: true, value: result.output };
  const [issue] = result.issues;
  return { ok: false, refusal: { key: keyOf(issue.path), rule: issue.message, value: issue.input } };
}

/** A value of any type that `test` accepts. */
export const satisfies = <T>(rule: string, test: (value: unknown) => boolean): Rule<T> =>
  v.custom<T>(test, rule);

export const boolean = v.boolean("a boolean (true or false)");

/** A whole number from min to max, counted in `unit` ("MiB", "minutes"). */
export function wholeIn(min: number, max: number, unit: string): Rule<number> {
  const rule = `a whole number of ${unit} from ${min} to ${max}`;
  return v.pipe(v.number(rule), v.integer(rule), v.minValue(min, rule), v.maxValue(max, rule));
}

/** One of `values`, each as it is written. */
export const oneOf = <const T extends string>(values: readonly T[]): Rule<T> =>
  v.picklist(values, `one of ${values.join(", ")}`);

/** A string with more than blanks in it. */
export const nonEmptyString = (rule = "a non-empty string"): Rule<string> =>
  v.pipe(
    v.string(rule),
    v.check((s) => s.trim() !== "", rule),
  );

/** A string that matches `pattern`. */
export const matching = (pattern: RegExp, rule: string): Rule<string> =>
  v.pipe(v.string(rule), v.regex(pattern, rule));

/** A list of distinct strings that each match `pattern` (each is `what`). */
export function uniqueList(what: string, pattern: RegExp): Rule<string[]> {
  return v.pipe(
    v.array(matching(pattern, what), `a list, each item ${what}`),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const list = dataset.value;
      list.forEach((item, i) => {
        if (list.indexOf(item) !== i) at(addIssue, [i], `${what}, each listed once`, item);
      });
    }),
  );
}

/** A key of a map refused by a rule of its own: the error names `map.key` and the key. */
export interface KeyRule {
  rule: string;
  refuses: (key: string) => boolean;
}

/** A map of string keys to string values (each passing `value`), whose keys pass every `keys` rule. */
export function stringMap(
  rule: string,
  keys: KeyRule[] = [],
  value: Rule<string> = v.string(),
): Rule<Record<string, string>> {
  return v.pipe(
    v.custom<Record<string, string>>(
      (m) =>
        typeof m === "object" &&
        m !== null &&
        !Array.isArray(m) &&
        Object.values(m).every((x) => v.is(value, x)),
      rule,
    ),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      for (const key of Object.keys(dataset.value)) {
        const refused = keys.find((k) => k.refuses(key));
        if (refused !== undefined) at(addIssue, [key], refused.rule, key);
      }
    }),
  );
}

/** Entries that are `removed` ones: not among the known keys an unknown key is told of. */
const REMOVED = new WeakSet<object>();

/** A setting that no longer exists: any value is refused with `rule`, which says how to migrate. */
export function removed(rule: string) {
  const schema = v.optional(v.custom<unknown>((x) => x === undefined || x === null, `removed: ${rule}`));
  REMOVED.add(schema);
  return schema;
}

/**
 * A plain object (not a list) of `entries`. Its rule is its own message; a missing entry is refused with that
 * entry's rule (as if given nothing), and with `strict` an unknown key with the known ones (removed ones aside).
 */
export function object<const E extends v.ObjectEntries>(entries: E, rule: string, strict = false) {
  const message = (issue: v.BaseIssue<unknown>) => {
    const key = issue.path?.at(-1)?.key as string | undefined;
    if (key === undefined) return rule;
    if (!(key in entries)) {
      const known = Object.keys(entries).filter((k) => !REMOVED.has(entries[k]));
      return `one of the known keys (${known.join(", ")})`;
    }
    const result = v.safeParse(entries[key], undefined);
    return result.success ? rule : result.issues[0].message;
  };
  return v.pipe(
    v.custom<v.InferInput<v.ObjectSchema<E, undefined>>>(
      (x) => typeof x === "object" && x !== null && !Array.isArray(x),
      rule,
    ),
    strict ? v.strictObject(entries, message) : v.object(entries, message),
  );
}

/**
 * `value` without the null entries of keys that may be left out: null means "not set" there, as undefined
 * does (JavaScript callers, JSON); the types do not allow it, so the rules need not.
 */
export function nullsUnset(value: unknown, entries: v.ObjectEntries): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const unset = (k: string, x: unknown) => x === null && k in entries && v.is(entries[k], undefined);
  return Object.fromEntries(Object.entries(value).filter(([k, x]) => !unset(k, x)));
}

/** Refuses the value at `path` (keys from what is checked) with `rule`: for rules between keys, or of keys. */
export function at<T>(
  addIssue: v.RawCheckAddIssue<T>,
  path: [string | number, ...(string | number)[]],
  rule: string,
  value: unknown,
): void {
  const items = path.map((key) => ({ type: "object", origin: "value", input: {}, key, value }));
  addIssue({ message: rule, input: value, path: items as [v.IssuePathItem, ...v.IssuePathItem[]] });
}

/** True for a bastion as the verifier's --proxy-jump takes it (one definition: the verifier's). */
export function isJump(value: unknown): boolean {
  return typeof value === "string" && succeeds(() => parseJump(value));
}

/** True for a path the verifier's --jump-config takes (quoted nowhere: ssh runs the hop through /bin/sh). */
export function isConfigFile(value: unknown): boolean {
  return typeof value === "string" && succeeds(() => validateConfigFile(value));
}

function succeeds(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}

/** True for "a.b.c.d/n" (n ≤ 32) or an IPv6 address with a prefix length ≤ 128. */
export function isCidr(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(value);
  if (!match) return false;
  const version = isIP(match[1]);
  const prefix = Number(match[2]);
  return (version === 4 && prefix <= 32) || (version === 6 && prefix <= 128);
}
