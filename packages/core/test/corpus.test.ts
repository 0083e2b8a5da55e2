// The rerun policy on the labelled corpus of real CI failure excerpts (corpus/failures.jsonl):
// a regression guard on the figures the project reaches (`npm run score` prints them with every
// misclassified excerpt), not a tuning target.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readCorpus, score, share } from "./corpus.js";

describe("the failure corpus", () => {
  const corpus = readCorpus();

  it("holds at least 200 real excerpts, each labelled and cited by its public URL", () => {
    assert.ok(corpus.length >= 200, `${corpus.length} excerpts`);
    assert.equal(new Set(corpus.map((e) => e.id)).size, corpus.length, "ids are unique");
    for (const e of corpus) {
      assert.ok(["transient", "genuine", "ambiguous"].includes(e.label), e.id);
      assert.match(e.source, /^https:\/\/\S+$/, e.id);
      assert.ok(e.excerpt.trim().length > 0 && e.family.length > 0, e.id);
    }
    for (const label of ["transient", "genuine", "ambiguous"] as const) assert.ok(corpus.some((e) => e.label === label), label);
  });

  it("RERUN_WHEN=transient with no user patterns re-runs at least 95% of the transient excerpts and at most 2% of the genuine ones", () => {
    const scored = score(corpus);
    const transient = share(scored, "transient");
    const genuine = share(scored, "genuine");
    assert.ok(transient.rerun / transient.total >= 0.95, `transient re-run ${transient.rerun}/${transient.total}`);
    assert.ok(genuine.rerun / genuine.total <= 0.02, `genuine re-run ${genuine.rerun}/${genuine.total}`);
    // Every transient excerpt that is re-run says why: a class and the line that decided.
    for (const s of scored.filter((x) => x.rerun)) assert.ok(s.verdict.class.startsWith("transient:") && s.verdict.evidence.length > 0, s.id);
  });
});
