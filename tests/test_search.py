"""Search over the real data: what a clinician typing into the search box would notice."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq
from whoosh.util.filelock import FileLock

from kb import InvalidQuery, KnowledgeBase
from kb.evidence import GRADE_ORDER
from kb.search import SYNC_LOCK, IndexBusy, SearchIndex, evidence_weight
from kb.search.ranking import read_postings
from kb.shapes import claim_json

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def skb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """A knowledge base over a private copy of the data, its index built once for the module
    (read-only tests only)."""
    root = tmp_path_factory.mktemp("search")
    shutil.copytree(DATA, root / "data", ignore=shutil.ignore_patterns("_parts"))
    kb = KnowledgeBase.load(root / "data", index_dir=root / "index")
    kb.search_warm()
    return kb


def ids(result: dict[str, Any], n: int | None = None) -> list[str]:
    return [hit["id"] for hit in result["results"][:n]]


def claims_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [hit for hit in result["results"] if hit["type"] == "claim"]


def edit_claims(data_dir: Path, change: Any) -> None:
    path = data_dir / "claims.json"
    claims = json.loads(path.read_text("utf-8"))
    claims = change(claims) or claims
    path.write_text(
        json.dumps(claims, indent=2, sort_keys=True, ensure_ascii=False) + "\n", "utf-8"
    )


# -- the questions of the issue ----------------------------------------------------------------
def test_crps_response_puts_crps_response_claims_first(skb: KnowledgeBase) -> None:
    top = ids(skb.search("CRPS response"), 5)
    assert "seed-crps-candidate" in top
    assert "mckenziebrown2023-f3" in top
    assert any(i.startswith("chopra2013-") for i in top), top
    for hit in claims_of(skb.search("CRPS response", limit=5)):
        assert "crps" in hit["conditions"] or hit["kind"] == "response_rate", hit["id"]


def test_starting_dose_finds_the_bedtime_start(skb: KnowledgeBase) -> None:
    result = skb.search("starting dose")
    assert "seed-start-dose" in ids(result, 3)
    hit = next(h for h in result["results"] if h["id"] == "seed-start-dose")
    assert hit["value_text"].startswith("1.5 mg") and "bedtime" in hit["text"]
    # "initial" is a synonym of "starting": the highlight shows why it matched
    assert "<mark>initial</mark>" in hit["highlight"] and "<mark>dose</mark>" in hit["highlight"]


def test_vivid_dreams_finds_adverse_effect_claims(skb: KnowledgeBase) -> None:
    result = skb.search("vivid dreams")
    top = claims_of(result)[:5]
    assert sum(h["kind"] == "adverse_effect" for h in top) >= 4
    assert "seed-ae-vivid-dreams" in ids(result)
    assert all("<mark>vivid dreams</mark>" in h["highlight"].lower() for h in top)
    assert result["facets"]["kind"]["adverse_effect"] >= 5


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("fibromialgia", "fibromyalgia"),
        ("fibromyalgai", "fibromyalgia"),
        ("insomina", "insomnia"),
        ("placbo response", "placebo response"),
        ("neuropatic pain", "neuropathic pain"),
    ],
)
def test_did_you_mean(skb: KnowledgeBase, typed: str, meant: str) -> None:
    assert skb.search(typed)["suggestion"] == meant


def test_no_suggestion_for_words_the_index_knows(skb: KnowledgeBase) -> None:
    assert skb.search("fibromyalgia")["suggestion"] is None
    assert skb.search("CRPS response")["suggestion"] is None


@pytest.mark.parametrize("grade", GRADE_ORDER)
def test_grade_filter_returns_only_that_grade(skb: KnowledgeBase, grade: str) -> None:
    result = skb.search("LDN", grade=grade, limit=100)
    assert result["results"], grade
    assert {h["evidence"]["grade"] for h in result["results"]} == {grade}
    assert result["total"] == result["facets"]["grade"][grade]
    assert len(result["results"]) == min(result["total"], 100)
    typed = skb.search(f"LDN grade:{grade.lower().replace(' ', '-')}", limit=100)
    assert ids(typed) == ids(result)


# -- query understanding -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("CRPS", "complex regional pain syndrome"),
        ("LDN", "low-dose naltrexone"),
        ("FM", "fibromyalgia"),
        ("PDN", "painful diabetic neuropathy"),
        ("DPN", "PDN"),
        ("AE", "side effects"),
        ("adverse effect", "side effect"),
        ("responders", "response rate"),
        ("dosing", "titration"),
        ("MS", "multiple sclerosis"),
        ("RCT", "randomised controlled trial"),
    ],
)
def test_synonyms_find_the_same_claims(skb: KnowledgeBase, a: str, b: str) -> None:
    ra, rb = skb.search(a, limit=100), skb.search(b, limit=100)
    assert ra["total"] > 0 and ra["total"] == rb["total"]
    assert set(ids(ra)) == set(ids(rb))


def test_a_condition_finds_claims_about_conditions_below_it(skb: KnowledgeBase) -> None:
    found = set(ids(skb.search("neuropathic pain", limit=100)))
    assert "chopra2013-f1" in found  # a CRPS case report whose text never says "neuropathic"
    assert "neuropathic" not in skb.claim("chopra2013-f1").text.lower()


def test_side_effect_finds_adverse_effect_claims_that_never_say_it(skb: KnowledgeBase) -> None:
    found = claims_of(skb.search("side effect", limit=100))
    silent = [
        h
        for h in found
        if "side effect" not in h["text"].lower() and "adverse" not in h["text"].lower()
    ]
    assert silent and all(h["kind"] == "adverse_effect" for h in silent)


def test_stemming(skb: KnowledgeBase) -> None:
    assert "younger2013-f3" in ids(skb.search("responder", limit=100))  # "responder definition"
    assert set(ids(skb.search("doses", limit=100))) == set(ids(skb.search("dose", limit=100)))


@pytest.mark.parametrize(
    ("q", "claim"),
    [
        ("4.5 mg", "seed-max-dose"),
        ('"4.5 mg"', "seed-max-dose"),
        ("64%", "mckenziebrown2023-f2"),
        ("1.5 mg bedtime", "seed-start-dose"),
    ],
)
def test_numbers_with_units_are_searchable(skb: KnowledgeBase, q: str, claim: str) -> None:
    assert claim in ids(skb.search(q, limit=20))


def test_phrases_match_words_in_order(skb: KnowledgeBase) -> None:
    loose = set(ids(skb.search("dreams vivid", limit=100)))
    exact = set(ids(skb.search('"dreams vivid"', limit=100)))
    assert loose and not exact
    assert ids(skb.search('"vivid dreams"', limit=100))


@pytest.mark.parametrize(
    "q",
    [
        "10.1111/j.1526-4637.2009.00613.x",
        "https://doi.org/10.1111/j.1526-4637.2009.00613.x",
        "doi:10.1111/J.1526-4637.2009.00613.X",
        "pmid:19453963",
        "19453963",
        "Younger Mackey pilot",
        "fibromyalgia Pain Medicine 2009",
    ],
)
def test_references_are_searchable(skb: KnowledgeBase, q: str) -> None:
    result = skb.search(q)
    refs = [h for h in result["results"] if h["type"] == "reference"]
    assert refs and refs[0]["id"] == "younger2009", (q, ids(result))
    assert refs[0]["doi"] == "10.1111/j.1526-4637.2009.00613.x"


@pytest.mark.parametrize(
    ("q", "kw", "check"),
    [
        ("pain", {"kind": "dose"}, lambda h: h["kind"] == "dose"),
        ("pain kind:dose", {}, lambda h: h["kind"] == "dose"),
        ("LDN", {"kind": ["dose", "titration"]}, lambda h: h["kind"] in ("dose", "titration")),
        (
            "LDN",
            {"condition": "neuropathic-pain"},
            lambda h: (
                "neuropathic-pain" in h["conditions"]
                or "crps" in h["conditions"]
                or set(h["conditions"])
                & {
                    "painful-diabetic-neuropathy",
                    "post-herpetic-neuralgia",
                    "trigeminal-neuralgia",
                    "hiv-neuropathy",
                    "neuropathic-corneal-pain",
                }
            ),
        ),
        ("LDN condition:CRPS", {}, lambda h: "crps" in h["conditions"]),
        # A trial's study-conduct statements are not graded (CEBM 0); background in its report
        # is expert opinion (CEBM 5); its findings are CEBM 2.
        ("LDN", {"design": "rct"}, lambda h: h["evidence"]["cebm_level"] in (2, 0, 5)),
        ("LDN -kind:adverse_effect", {}, lambda h: h["kind"] != "adverse_effect"),
    ],
)
def test_filters(skb: KnowledgeBase, q: str, kw: dict[str, Any], check: Any) -> None:
    result = skb.search(q, limit=100, **kw)
    hits = claims_of(result)
    assert hits and all(check(h) for h in hits), [h["id"] for h in hits if not check(h)]


def test_filters_alone_list_by_evidence(skb: KnowledgeBase) -> None:
    result = skb.search("kind:dose", limit=100)
    assert result["total"] == sum(c.kind == "dose" for c in skb.claims.values())
    scores = [h["score"] for h in result["results"]]
    assert scores == sorted(scores, reverse=True)
    assert result["results"][0]["evidence"]["grade"] == "High"


def test_excluded_words(skb: KnowledgeBase) -> None:
    with_opioid = set(ids(skb.search("neuropathic pain", limit=100)))
    without = set(ids(skb.search("neuropathic pain -opioids", limit=100)))
    assert without < with_opioid
    assert all("opioid" not in skb.claims[i].text.lower() for i in without if i in skb.claims)


def test_wildcard_and_fuzzy(skb: KnowledgeBase) -> None:
    assert "younger2013-f3" in ids(skb.search("respon*", limit=100))
    fuzzy = skb.search("fibromialgia~")  # the word itself: no synonyms, unlike fibromyalgia
    assert fuzzy["total"] == skb.search('"fibromyalgia"')["total"] > 0


def test_facets_count_the_matches(skb: KnowledgeBase) -> None:
    result = skb.search("vivid dreams", limit=100)
    claims = claims_of(result)
    assert sum(result["facets"]["kind"].values()) == len(claims)
    assert sum(result["facets"]["grade"].values()) == len(claims)
    assert set(result["facets"]) == {"kind", "condition", "grade", "design"}
    # conditions count with the conditions above them
    assert result["facets"]["condition"]["chronic-pain"] == len(claims)


def test_paging(skb: KnowledgeBase) -> None:
    p1, p2 = skb.search("LDN", limit=5), skb.search("LDN", limit=5, page=2)
    assert p1["total"] == p2["total"] > 10 and p2["page"] == 2
    assert not set(ids(p1)) & set(ids(p2))
    assert ids(skb.search("LDN", limit=10)) == ids(p1) + ids(p2)
    far = skb.search("LDN", limit=100, page=10)
    assert far["results"] == [] and far["total"] == p1["total"]


@pytest.mark.parametrize(
    "kw", [{"limit": 0}, {"limit": 101}, {"page": 0}, {"page": 500, "limit": 100}, {"limit": "ten"}]
)
def test_bad_paging_is_invalid_query(skb: KnowledgeBase, kw: dict[str, Any]) -> None:
    with pytest.raises(InvalidQuery, match="could not understand the query"):
        skb.search("LDN", **kw)


def test_result_shape(skb: KnowledgeBase) -> None:
    result = skb.search("CRPS")
    assert {"query", "total", "page", "results", "facets", "suggestion"} <= set(result)
    claim = next(h for h in result["results"] if h["type"] == "claim")
    expected = claim_json(skb, claim["id"])
    assert {k: v for k, v in claim.items() if k not in ("type", "score", "highlight")} == expected
    ref = next(h for h in result["results"] if h["type"] == "reference")
    assert {"id", "label", "title", "doi", "pmid", "design", "score", "highlight"} <= set(ref)
    json.dumps(result)  # plain JSON all the way down


def test_highlight_marks_matches_without_escaping(skb: KnowledgeBase) -> None:
    hit = skb.search("complex regional pain syndrome", limit=50)
    text = next(h for h in hit["results"] if h["id"] == "seed-crps-candidate")["highlight"]
    assert text.startswith("<mark>Complex regional pain syndrome</mark>")
    plain = next(h for h in hit["results"] if h["id"] == "mckenziebrown2023-f3")["highlight"]
    assert "<mark>CRPS</mark>" in plain and ">50%" in plain  # not HTML-escaped


# -- ranking that weighs evidence --------------------------------------------------------------
def _twin_claims(data_dir: Path, refs: tuple[str, str]) -> None:
    """Two claims with the same text and scope, resting on different references."""

    def change(claims: list[dict[str, Any]]) -> None:
        base = next(c for c in claims if c["id"] == "chopra2013-f3")
        for n, ref in enumerate(refs):
            twin = json.loads(json.dumps(base))
            twin.update(
                id=f"twin-{n}",
                text="Zymurgic quiescence was seen under LDN.",
                conditions=["chronic-pain"],
                citations=[{"ref": ref}],
            )
            twin.pop("plain_text", None)
            claims.append(twin)

    edit_claims(data_dir, change)


@pytest.mark.parametrize(
    ("strong", "weak"),
    [
        ("bruun2024_final", "chopra2013"),  # RCT over a case report
        ("rassimariani2024", "droracle2025_overview"),  # systematic review over a secondary page
        ("hegde2025", "mckenziebrown2023"),  # meta-analysis over a case series
    ],
)
def test_equal_text_ranks_stronger_evidence_first(
    data_dir: Path, index_dir: Path, strong: str, weak: str
) -> None:
    for order in ((weak, strong), (strong, weak)):  # data order must not decide
        shutil.rmtree(index_dir, ignore_errors=True)
        edit_claims(data_dir, lambda cs: [c for c in cs if not c["id"].startswith("twin-")])
        _twin_claims(data_dir, order)
        kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
        result = kb.search("zymurgic quiescence")
        strong_id = f"twin-{order.index(strong)}"
        assert ids(result)[:2] == [strong_id, f"twin-{1 - order.index(strong)}"]
        kb.search_index.close()


def test_evidence_weight_formula() -> None:
    assert evidence_weight(4, 4) == 1.0 and evidence_weight(1, 1) == 0.6
    # grade never exceeds the starting certainty; the weakest SR/RCT beats the best case report
    assert evidence_weight(4, 1) > evidence_weight(1, 1)
    assert evidence_weight(4, 1) > evidence_weight(2, 2) > evidence_weight(1, 1)
    assert evidence_weight(4, 4) > evidence_weight(4, 3) > evidence_weight(4, 2)


# -- the index follows the data ----------------------------------------------------------------
def test_an_edit_is_found_without_a_rebuild(data_dir: Path, index_dir: Path) -> None:
    kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
    assert kb.search("quetzalcoatl")["total"] == 0
    assert kb.search_index.last_sync.rebuilt
    kb.search_index.close()

    def change(claims: list[dict[str, Any]]) -> None:
        claim = next(c for c in claims if c["id"] == "seed-start-dose")
        claim["text"] = "The initial LDN dose is 1.5 mg at bedtime, says Quetzalcoatl."

    edit_claims(data_dir, change)

    kb2 = KnowledgeBase.load(data_dir, index_dir=index_dir)
    assert ids(kb2.search("quetzalcoatl")) == ["seed-start-dose"]
    sync = kb2.search_index.last_sync
    assert (sync.updated, sync.added, sync.deleted, sync.rebuilt) == (1, 0, 0, False)
    assert sync.unchanged == len(kb2.claims) + len(kb2.references) - 1


def test_deleted_and_added_claims(data_dir: Path, index_dir: Path) -> None:
    kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
    kb.search_warm()
    assert "younger2009-f3" in ids(kb.search("insomnia", limit=50))
    kb.search_index.close()

    def change(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = [c for c in claims if c["id"] != "younger2009-f3"]
        new = json.loads(json.dumps(next(c for c in claims if c["id"] == "younger2009-f3")))
        new.update(id="younger2009-f99", text="Insomnia was rare; somnambulism never occurred.")
        return [*out, new]

    edit_claims(data_dir, change)

    kb2 = KnowledgeBase.load(data_dir, index_dir=index_dir)
    found = ids(kb2.search("insomnia", limit=50))
    assert "younger2009-f3" not in found and "younger2009-f99" in found
    sync = kb2.search_index.last_sync
    assert (sync.added, sync.deleted, sync.rebuilt) == (1, 1, False)


def test_nothing_rewritten_when_nothing_changed(data_dir: Path, index_dir: Path) -> None:
    KnowledgeBase.load(data_dir, index_dir=index_dir).search_warm()
    kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
    report = kb.reindex()
    assert (report["added"], report["updated"], report["deleted"]) == (0, 0, 0)
    rebuilt = kb.reindex(rebuild=True)
    assert rebuilt["rebuilt"] and rebuilt["documents"] == len(kb.claims) + len(kb.references)
    assert ids(kb.search("CRPS response")) == ids(
        KnowledgeBase.load(data_dir, index_dir=index_dir).search("CRPS response")
    )


def test_index_lives_outside_the_data(data_dir: Path) -> None:
    kb = KnowledgeBase.load(data_dir)
    assert kb.index_dir == data_dir.parent / "instance" / "index"
    kb.search_warm()
    assert sorted(p.name for p in data_dir.iterdir()) == sorted(
        p.name for p in DATA.iterdir() if p.name != "_parts"
    )


# -- two processes -----------------------------------------------------------------------------
def test_a_locked_index_is_searched_as_last_committed(data_dir: Path, index_dir: Path) -> None:
    kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
    result = kb.search("CRPS response")
    before = result["total"]
    gone = next(i for i in ids(result) if i in kb.claims and not kb.articles_containing(i))
    kb.search_index.close()
    edit_claims(data_dir, lambda cs: [c for c in cs if c["id"] != gone])
    lock = FileLock(str(index_dir / SYNC_LOCK))  # "another process" is updating the index
    assert lock.acquire(blocking=False)
    try:
        kb2 = KnowledgeBase.load(data_dir, index_dir=index_dir)
        kb2.__dict__["_search_index"] = SearchIndex(index_dir, lock_timeout=0.2)
        result = kb2.search("CRPS response")
        assert result["total"] == before  # counted as the last committed index has it …
        assert any("out of date" in w for w in result["warnings"])
        assert gone not in ids(result, 50)  # … but a claim this data lacks is not shown
    finally:
        lock.release()
    caught_up = kb2.search("CRPS response")  # the lock is free: this process updates
    assert caught_up["total"] == before - 1 and not caught_up["warnings"]


def test_no_index_and_a_busy_builder_is_index_busy(data_dir: Path, index_dir: Path) -> None:
    index_dir.mkdir(parents=True)
    lock = FileLock(str(index_dir / SYNC_LOCK))
    assert lock.acquire(blocking=False)
    try:
        kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
        kb.__dict__["_search_index"] = SearchIndex(index_dir, lock_timeout=0.2)
        with pytest.raises(IndexBusy):
            kb.search("LDN")
    finally:
        lock.release()


def test_readers_keep_the_last_committed_index_during_an_update(
    data_dir: Path, index_dir: Path
) -> None:
    reader = KnowledgeBase.load(data_dir, index_dir=index_dir)
    before = ids(reader.search("LDN", limit=20))
    edit_claims(data_dir, lambda cs: [c for c in cs if c["id"] != before[0]])
    writer = KnowledgeBase.load(data_dir, index_dir=index_dir)
    writer.reindex()
    after = ids(writer.search("LDN", limit=20))
    assert before[0] not in after
    # the first process still answers (its data still holds the claim; the index moved on)
    again = ids(reader.search("LDN", limit=20))
    assert again and before[0] not in again


def _build_in_another_process(data_dir: str, index_dir: str, out: Any) -> None:
    kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
    out.put(kb.search("CRPS response")["total"])


def test_documents_are_the_same_in_another_process(data_dir: Path, index_dir: Path) -> None:
    """Hashes must not depend on the process (set order varies with hash randomisation)."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_build_in_another_process, args=(str(data_dir), str(index_dir), out))
    proc.start()
    out.get(timeout=120)
    proc.join(timeout=60)

    def change(claims: list[dict[str, Any]]) -> None:
        claims[0]["text"] += " Edited."

    edit_claims(data_dir, change)  # so every document's hash is compared, not only the total
    report = KnowledgeBase.load(data_dir, index_dir=index_dir).reindex()
    assert (report["updated"], report["added"], report["deleted"]) == (1, 0, 0)


def test_two_processes_building_at_once(data_dir: Path, index_dir: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_build_in_another_process, args=(str(data_dir), str(index_dir), out))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    totals = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
    assert totals == [kb.search("CRPS response")["total"]] * 2
    assert kb.search_index.last_sync.documents == len(kb.claims) + len(kb.references)


# -- any input is safe -------------------------------------------------------------------------
NASTY = [
    "",
    "   ",
    "a" * 10_000,
    '"unbalanced',
    "(crps",
    "crps)",
    "((((((((((x))))))))))",
    "*",
    "*a*",
    "a~99",
    "crps~99",
    "NOT NOT NOT",
    "NOT crps",
    "-",
    "AND OR",
    "😀🤯",
    "\x00\x1f\x7f",
    "kind:",
    "kind:nope",
    "grade:excellent",
    "condition:migraine",
    "design:anecdote",
    '""',
    "()",
    "~",
    "^",
    "crps^99",
    "10.",
    "doi:",
    "pmid:",
    "the of and",
    "a b c",
    " ".join(["pain"] * 40),
    "respon?e",
    "r*",
    "\u202e\u200bcrps",
    "ＣＲＰＳ",
    "%s%n{0}",
    "<script>alert(1)</script>",
    "'; DROP TABLE claims; --",
]


@pytest.mark.parametrize("q", NASTY)
def test_odd_input_gives_results_or_a_clear_message(skb: KnowledgeBase, q: str) -> None:
    started = time.monotonic()
    try:
        result = skb.search(q)
    except InvalidQuery as exc:
        assert str(exc).startswith("could not understand the query")
    else:
        assert isinstance(result["results"], list) and result["total"] >= 0
    assert time.monotonic() - started < 5


def test_fullwidth_and_control_characters_are_normalised(skb: KnowledgeBase) -> None:
    assert skb.search("ＣＲＰＳ")["total"] == skb.search("\u200bCRPS\x07")["total"] > 0


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.text(max_size=120))
def test_random_text_never_raises_anything_but_invalid_query(skb: KnowledgeBase, q: str) -> None:
    with contextlib.suppress(InvalidQuery):
        skb.search(q)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.sampled_from(
            [
                "crps",
                "LDN",
                '"',
                "(",
                ")",
                "NOT",
                "-",
                "OR",
                "AND",
                "*",
                "~2",
                "kind:dose",
                "grade:",
                "dose*",
                "pain",
                "side effect",
            ]
        ),
        max_size=20,
    ).map(" ".join)
)
def test_random_query_syntax_never_raises_anything_but_invalid_query(
    skb: KnowledgeBase, q: str
) -> None:
    with contextlib.suppress(InvalidQuery):
        skb.search(q)


def test_a_search_past_its_time_limit_stops_with_a_warning(data_dir: Path, index_dir: Path) -> None:
    kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
    kb.search_warm()
    kb.search_index.time_limit = 0.0
    result = kb.search("LDN pain dose")
    assert any("cut short" in w for w in result["warnings"])


# -- the engine agrees with Whoosh -------------------------------------------------------------
@pytest.mark.parametrize("q", ["vivid dreams", "placebo crossover", "tachycardia headache", "LDN"])
def test_scores_are_whoosh_bm25f_times_coordination_times_the_evidence_weight(
    skb: KnowledgeBase, q: str
) -> None:
    """The engine scores whole posting lists itself; Whoosh's own BM25F is the reference,
    times the share of query terms a document holds and the evidence weight in memory."""
    from whoosh import index as whoosh_index

    from kb.search.query import parse

    state = skb.search_index._open()
    ev = state.evidence_for(skb)
    tokens = [leaf.value[0] for leaf in parse(q, skb.search_index._vocab).leaves()]
    weight = {
        seg.offset + d: float(w)
        for s, seg in enumerate(state.segments)
        for d, w in enumerate(ev.weight[s])
    }
    with whoosh_index.open_dir(str(skb.index_dir)).searcher() as searcher:
        hits = searcher.search(wq.Or([wq.Term("body", t) for t in tokens]), limit=None, terms=True)
        expected = {
            searcher.stored_fields(h.docnum)["key"].split(":", 1)[1]: h.score
            * weight[h.docnum]
            * len({t for _, t in h.matched_terms()})
            / len(tokens)
            for h in hits
        }
    result = skb.search(q, limit=10)
    assert result["total"] == len(expected)
    best = sorted(expected.values(), reverse=True)[:10]
    assert [h["score"] for h in result["results"]] == pytest.approx(best, abs=1e-3)
    assert all(expected[h["id"]] == pytest.approx(h["score"], abs=1e-3) for h in result["results"])


def test_block_reader_matches_whooshs_own_matcher(skb: KnowledgeBase) -> None:
    state = skb.search_index._open()
    reader = state.segments[0].reader
    for token in ("ldn", "§ldn", "pain", "dream", "§crps"):
        fast = read_postings(reader.postings("body", token), values=True)
        m = reader.postings("body", token)
        slow: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
        while m.is_active():
            slow[0].append(m.id())
            slow[1].append(m.weight())
            slow[2].append(m.value())
            m.next()
        assert (list(fast[0]), list(fast[1]), list(fast[2])) == slow, token


def test_repeated_searches_are_cached_but_never_stale(
    data_dir: Path, index_dir: Path, tmp_path: Path
) -> None:
    """A repeated query is served from the result cache; an editorial flag or a change in the
    index is seen by the very next search, and editing a returned page changes nothing."""
    from kb.editorial import Editor

    kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
    editor = Editor.open(kb, tmp_path / "instance")
    first = kb.search("vivid dreams")
    top = first["results"][0]["id"]
    first["results"].clear()  # the caller's copy; the cache keeps its own
    again = kb.search("vivid dreams")
    assert again["results"][0]["id"] == top and again["results"][0]["editorial"]["flags"] == []
    editor.record("rita", "reviewer", "flag", f"claim:{top}", reason="check the source")
    flagged = kb.search("vivid dreams")["results"][0]
    assert [f["reason"] for f in flagged["editorial"]["flags"]] == ["check the source"]
    # Another process rewrites the index: the next search answers from the new one.
    edit_claims(data_dir, lambda cs: [c for c in cs if c["id"] != top])
    KnowledgeBase.load(data_dir, index_dir=index_dir).reindex()
    assert top not in ids(kb.search("vivid dreams"))
