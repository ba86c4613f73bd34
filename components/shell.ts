/** Quotes one word for POSIX sh, so paths and values with spaces or quotes reach the program intact. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
