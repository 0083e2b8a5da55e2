// `npm run score`: the rerun policy (RERUN_WHEN=transient, no user patterns) on the labelled
// corpus of real CI failure excerpts: per family and overall, the share of transient excerpts
// re-run and of genuine excerpts re-run, the ambiguous ones, and every misclassified excerpt
// with the evidence that decided it.
import { score, share, type Scored } from "../packages/core/test/corpus.ts";

const scored = score();
const percent = (n: number, d: number): string => (d === 0 ? "-" : `${((100 * n) / d).toFixed(1)}%`);
const families = [...new Set(scored.map((s) => s.family))].sort();
const lines: string[] = [];
lines.push("family                          transient re-run   genuine re-run   ambiguous re-run");
for (const family of families) {
  const of = scored.filter((s) => s.family === family);
  const t = share(of, "transient");
  const g = share(of, "genuine");
  const a = share(of, "ambiguous");
  const cell = (x: { rerun: number; total: number }) => (x.total === 0 ? "".padEnd(17) : `${x.rerun}/${x.total}`.padEnd(17));
  lines.push(`${family.padEnd(32)}${cell(t)}${cell(g)}${a.total === 0 ? "" : `${a.rerun}/${a.total}`}`);
}
const t = share(scored, "transient");
const g = share(scored, "genuine");
const a = share(scored, "ambiguous");
lines.push("");
lines.push(`overall: ${scored.length} excerpts`);
lines.push(`  transient re-run: ${t.rerun} of ${t.total} (${percent(t.rerun, t.total)})`);
lines.push(`  genuine re-run:   ${g.rerun} of ${g.total} (${percent(g.rerun, g.total)})`);
lines.push(`  ambiguous re-run: ${a.rerun} of ${a.total} (${percent(a.rerun, a.total)})`);
// The labels first given from how each thread ended, before 13 whose text cannot tell were moved to ambiguous (corpus/README.md).
const firstLabel = (s: Scored): Scored["label"] => (/^relabelled ambiguous \(was (transient|genuine)\)/.exec(s.note)?.[1] as Scored["label"] | undefined) ?? s.label;
const first = scored.map((s) => ({ ...s, label: firstLabel(s) }));
const t0 = share(first, "transient");
const g0 = share(first, "genuine");
lines.push(`  on the labels first given (before the relabelling): transient re-run ${t0.rerun} of ${t0.total} (${percent(t0.rerun, t0.total)}), genuine re-run ${g0.rerun} of ${g0.total} (${percent(g0.rerun, g0.total)})`);
const wrong = (s: Scored): boolean => (s.label === "transient" && !s.rerun) || (s.label === "genuine" && s.rerun);
const misses = scored.filter(wrong);
lines.push("");
lines.push(`misclassified (${misses.length}):`);
for (const s of misses) {
  lines.push(`  ${s.id} [${s.label}] -> ${s.verdict.class}${s.verdict.signature === undefined ? "" : ` (${s.verdict.signature})`}: ${s.verdict.evidence}`);
  lines.push(`      ${s.source}`);
}
console.log(lines.join("\n"));
