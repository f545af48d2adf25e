// Tools are found by search: clients that load tools on demand (Claude Code's ToolSearch) rank them
// by keywords over name, description and search hint. For requests in an agent's own words, the
// right tool must be among the first three of a plain keyword ranking (SPEC §12). The table this
// prints is the note's record of where each tool ranked.
import { expect, test } from "bun:test";
import type { Tool } from "../src/mcp/tool.ts";
import { tools } from "../src/mcp/tools/index.ts";
import { requests } from "./fixtures/tool-search-requests.ts";


const stopwords = new Set("a an the to of in on and or is it its for with at by as be i my me into from this that what when then get".split(" "));

/** Lower-case words, a crude stem (plural, -ing, -ed), no stopwords. */
function terms(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9+]+/g) ?? [])
    .filter((w) => !stopwords.has(w))
    .map((w) => (w.length > 5 && w.endsWith("ing") ? w.slice(0, -3) : w.length > 4 && w.endsWith("ed") ? w.slice(0, -2) : w.length > 3 && w.endsWith("s") && !w.endsWith("ss") ? w.slice(0, -1) : w));
}

interface Doc {
  name: string;
  fields: { weight: number; terms: Set<string> }[];
}

/** A keyword ranking like a client's tool search: each query word counts once per field, weighted by field and rarity. */
function rank(all: readonly Tool[], query: string): string[] {
  const docs: Doc[] = all.map((t) => ({
    name: t.name,
    fields: [
      { weight: 3, terms: new Set(terms(t.name.replaceAll("_", " "))) },
      { weight: 2, terms: new Set(terms(`${t.title} ${t.meta?.searchHint ?? ""}`)) },
      { weight: 1, terms: new Set(terms(t.description)) },
    ],
  }));
  const df = (term: string) => docs.filter((d) => d.fields.some((f) => f.terms.has(term))).length;
  const q = [...new Set(terms(query))];
  const score = (d: Doc) => q.reduce((sum, term) => {
    const n = df(term);
    if (n === 0) return sum;
    const idf = Math.log(1 + docs.length / n);
    return sum + idf * Math.max(0, ...d.fields.filter((f) => f.terms.has(term)).map((f) => f.weight));
  }, 0);
  return docs
    .map((d, i) => ({ name: d.name, score: score(d), i }))
    .filter((r) => r.score > 0)
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map((r) => r.name);
}

test(`tool search: for each of ${requests.length} requests in an agent's words, the right tool is among the first three`, () => {
  const ranked = requests.map(([query, want]) => {
    const order = rank(tools, query);
    return { query, want, rank: order.indexOf(want) + 1, first: order.slice(0, 3).join(", ") };
  });
  console.log(ranked.map((r) => `${String(r.rank).padStart(2)}  ${r.want.padEnd(22)} "${r.query}"  → ${r.first}`).join("\n"));
  expect(ranked.filter((r) => r.rank < 1 || r.rank > 3)).toEqual([]);
});

test("tools: every description starts with what it is for and fits 2,048 characters; core tools always loaded, the rest with search hints", () => {
  const summary = tools.map((t) => ({
    name: t.name,
    fits: t.description.length <= 2048,
    nameFits: t.name.length <= 64,
    found: t.meta?.alwaysLoad === true || (t.meta?.searchHint ?? "").split(" ").length >= 4,
  }));
  expect(summary.filter((s) => !s.fits || !s.nameFits || !s.found)).toEqual([]);
  expect(tools.filter((t) => t.meta?.alwaysLoad).map((t) => t.name).sort()).toEqual(["create_local_session", "read_output", "send_input"]);
  expect(tools.filter((t) => t.meta?.requiresUserInteraction).map((t) => t.name).sort()).toEqual(["prepare_secret", "send_secret"]);
});
