/**
 * A copy of `text` that keeps no larger string alive. V8 represents a substring of 13 or more
 * characters as a view into its parent (a sliced string), so a cache keyed by pieces of prompts
 * would hold every whole prompt in memory, uncounted by its budget: 40 KB per 7k-token prompt,
 * measured, and the young-generation collections that copy them. Prepending a character makes a
 * new string, which slicing flattens into a fresh one first. Shorter substrings are copies already.
 */
export function detachedString(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}
