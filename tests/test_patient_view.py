"""The patient view: written for patients, safety first, nothing unsupported as plain fact,
and a reading level measured with textstat (target: US grade 8 or lower).

Labelled examples from the dossier's SEED_MAP.md: "no drug interactions" is stated by Bostick
2019 but contradicted by opioid antagonism and an immunosuppressant precaution (§3, §6 item
7); the 3-4 week onset and the 6-8 week stopping rule have no primary source (§6 items 2, 3).
"""

from __future__ import annotations

import statistics
from typing import Any

import pytest
from flask.testing import FlaskClient

from kb import KnowledgeBase, pages

textstat_mod = pytest.importorskip("textstat.textstat")

ARTICLE = "ldn-chronic-pain"
TARGET_GRADE = 8.0


def _grade(text: str) -> float:
    """Flesch-Kincaid US school grade. ``en-US`` (not ``en``) makes textstat count syllables
    with its bundled Pyphen dictionary instead of downloading NLTK's CMU dictionary."""
    stats = textstat_mod.textstatistics()
    stats.set_lang("en-US")
    return float(stats.flesch_kincaid_grade(text))


@pytest.fixture(scope="module")
def patient(real_kb: KnowledgeBase) -> dict[str, Any]:
    return pages.article(real_kb, ARTICLE, audience="patient")


def _shown(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = list(doc["safety"]) + list(doc["bottom_line"])
    stack = list(doc["sections"])
    while stack:
        sec = stack.pop(0)
        out += [s for s in sec["statements"] if not s["in_bottom_line"] and not s["in_safety"]]
        stack += sec["subsections"]
    return out


def test_patient_disclaimer_and_plain_boxes(patient: dict[str, Any]) -> None:
    assert "not medical advice" in patient["disclaimer"]
    assert "health professionals" not in patient["disclaimer"]
    terms = {b["term"] for b in patient["box_help"]}
    assert {"Checked against the original study", "Experts disagree"} <= terms
    for st in _shown(patient):
        for c in st["caveats"]:
            assert "primary source" not in c["label"], c  # plain words, not the jargon
        assert st["contested_label"] == "Experts disagree"


def test_safety_comes_first(patient: dict[str, Any]) -> None:
    safety = [s["id"] for s in patient["safety"]]
    assert safety[0] == "seed-no-drug-interactions"  # interactions first
    # SEED_MAP §3: opioid antagonism and the transplant/immunosuppressant precaution (Dieckmann
    # 2017) come before the side effects.
    precautions = [i for i, cid in enumerate(safety) if cid.startswith(("dieckmann2017", "toljan"))]
    assert precautions and max(precautions) < safety.index("seed-ae-headache")
    assert {"seed-ae-vivid-dreams", "seed-ae-headache", "seed-adverse-effect-rate-32pct"} <= set(
        safety
    )
    # Shown once: the Safety section of the article points back to the top.
    for sec in patient["sections"]:
        for sub in sec["subsections"]:
            for st in sub["statements"]:
                if st["id"] in safety:
                    assert st["in_safety"]


@pytest.mark.parametrize(
    ("claim_id", "hedge"),
    [
        ("seed-onset-3-4-weeks", "Not shown by the original study"),
        ("seed-stop-no-response-6-8-weeks", "Not shown by the original study"),
        ("seed-neuropathic-64pct-response", "Not backed by the original study as written"),
        ("seed-mechanism-mu-kappa", "Not checked yet"),
        ("seed-no-drug-interactions", "Not backed by the original study as written"),
    ],
)
def test_nothing_unsupported_is_presented_as_fact(
    patient: dict[str, Any], claim_id: str, hedge: str
) -> None:
    (st,) = [s for s in _shown(patient) if s["id"] == claim_id]
    assert st["hedge"] and st["hedge"].startswith(hedge)


def test_every_flagged_statement_is_hedged(patient: dict[str, Any]) -> None:
    for st in _shown(patient):
        if st["flagged_verdict"] or st["editorial"]["contested_by_board"]:
            assert st["hedge"], st["id"]


def test_reading_level_of_patient_texts(patient: dict[str, Any]) -> None:
    statements = [s["display_text"] for s in _shown(patient)]
    boxes = [b["text"] for b in patient["box_help"]] + [patient["disclaimer"]]
    boxes += [f"{v['patient']}." for v in pages.VERDICT_BOXES.values()]
    boxes += [s["hedge"] for s in _shown(patient) if s["hedge"]]
    caveats = [c["text"] for s in _shown(patient) for c in s["caveats"] if c["kind"] == "indirect"]
    glossary = [t["definition"] for t in patient["glossary"]]
    figures = {
        "statements (whole page)": _grade(" ".join(statements)),
        "statements (median)": statistics.median(_grade(t) for t in statements),
        "boxes, hedges and disclaimer": _grade(" ".join(boxes)),
        "indirectness notes": _grade(" ".join(caveats)),
        "glossary": _grade(" ".join(glossary)),
    }
    hardest = sorted(((_grade(t), t) for t in statements), reverse=True)[:3]
    report = "\n".join(f"  {k}: US grade {v:.1f}" for k, v in figures.items())
    report += "\n  hardest statements:\n" + "\n".join(f"    {g:.1f} {t}" for g, t in hardest)
    print(f"\nReading level of the patient view (Flesch-Kincaid):\n{report}")
    for name, grade in figures.items():
        assert grade <= TARGET_GRADE, f"{name} reads at grade {grade:.1f}\n{report}"


def test_patient_page_html(real_client: FlaskClient) -> None:
    html = real_client.get(f"/articles/{ARTICLE}?audience=patient").text
    assert html.index('id="safety-title"') < html.index('id="bottom-line"')
    assert "Please read first" in html and "not medical advice" in html
    assert "What the boxes on this page mean" in html
    assert "Checked against the primary source" not in html
    assert "Written for health professionals" not in html
    assert 'class="hedge"' in html


def test_conflict_cards_speak_plain_words(patient: dict[str, Any], real_kb: KnowledgeBase) -> None:
    """SEED_MAP §6 item 7: "no drug interactions" (Bostick 2019, the article) against a
    precaution (Dieckmann 2017) and opioid blockade (Toljan 2018). For a patient that card asks
    whether LDN can be taken with other medicines, and every claim reads in its plain words."""
    from kb.conflicts import TYPE_LABELS

    assert set(pages.PATIENT_CONFLICTS) == set(TYPE_LABELS)  # every type has plain words
    cards = patient["conflicts"]
    assert cards
    shown = []
    for cf in cards:
        assert " vs " not in cf["title"] and "in the article" not in cf["title"], cf["title"]
        shown += [cf["title"], cf["explanation"]]
        for side in cf["sides"]:
            for c in side["claims"]:
                claim = real_kb.claims[c["id"]]
                assert c["text"] == (claim.plain_text or claim.text)
                shown.append(c["text"])
    interactions = next(cf for cf in cards if cf["type"] == "safety_contradiction")
    assert interactions["title"].startswith("Can low-dose naltrexone be taken with other medicines")
    ids = {c["id"] for side in interactions["sides"] for c in side["claims"]}
    assert {"seed-no-drug-interactions", "dieckmann2017-f3-precaution"} <= ids
    titles = " ".join(f"{cf['title']}. {cf['explanation']}" for cf in cards)
    grade_titles, grade_all = _grade(titles), _grade(" ".join(shown))
    print(
        f"\nConflict cards (Flesch-Kincaid): titles and lines {grade_titles:.1f}, all {grade_all:.1f}"
    )
    assert grade_titles <= TARGET_GRADE and grade_all <= TARGET_GRADE


def test_patient_conflict_cards_html(real_client: FlaskClient) -> None:
    html = real_client.get(f"/articles/{ARTICLE}?audience=patient").text
    part = html[html.index('id="contested-summary"') :]
    part = part[: part.index("</section>\n\n  <section")]
    assert "Can low-dose naltrexone be taken with other medicines? Sources disagree" in part
    assert "LDN is said not to clash with other medicines." in part  # its plain text
    assert "no clinically significant interactions" not in part  # the clinician wording
    assert "scope:" not in part and "safety contradiction" not in part
    clinician = real_client.get(f"/articles/{ARTICLE}").text
    assert "no clinically significant interactions" in clinician and "scope:" in clinician
