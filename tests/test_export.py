"""Exports: CSL-JSON, BibTeX and RIS read back; citations; claims CSV; graph round trips."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import bibtexparser
import jsonschema
import networkx as nx
import pytest
import rispy

from kb import KBError, KnowledgeBase, export
from kb.graph import from_node_link
from kb.importer import import_file
from kb.schema import validate_records

FIXTURES = Path(__file__).parent / "fixtures" / "import"


@pytest.fixture
def grown_kb(kb: KnowledgeBase) -> KnowledgeBase:
    """The bundled data plus two imported test documents (new references without DOIs)."""
    for name in ("bulleted-kinds-commas.txt", "unresolved-number.txt"):
        kb = import_file(kb, FIXTURES / name, today=date(2026, 2, 1)).knowledge_base
    return kb


def _dois(kb: KnowledgeBase) -> set[str]:
    return {r.doi.lower() for r in kb.references.values() if r.doi}


def test_csl_json_validates_against_the_csl_schema(grown_kb: KnowledgeBase) -> None:
    items = json.loads(export.references_csl_json(grown_kb))
    assert len(items) == len(grown_kb.references)
    validate_records("references.json", "csl-data.json", items)
    schema = json.loads(
        (Path(__file__).parents[1] / "kb" / "schemas" / "csl-data.json").read_text("utf-8")
    )
    jsonschema.validate(items, schema)  # the whole array, as a CSL processor would read it
    assert {i["id"] for i in items} == set(grown_kb.references)


def test_bibtex_parses_back_with_the_same_entries_and_dois(grown_kb: KnowledgeBase) -> None:
    library = bibtexparser.parse_string(export.references_bibtex(grown_kb))
    assert library.failed_blocks == []
    assert len(library.entries) == len(grown_kb.references)
    assert {e.key for e in library.entries} == set(grown_kb.references)
    assert {
        e.fields_dict["doi"].value.lower() for e in library.entries if "doi" in e.fields_dict
    } == _dois(grown_kb)
    younger = next(e for e in library.entries if e.key == "younger2013")
    assert younger.entry_type == "article"
    assert younger.fields_dict["pages"].value == "529--538"
    assert younger.fields_dict["journal"].value == r"Arthritis \& Rheumatism"  # escaped


def test_ris_parses_back_with_the_same_records_and_dois(grown_kb: KnowledgeBase) -> None:
    records = rispy.loads(export.references_ris(grown_kb))
    assert len(records) == len(grown_kb.references)
    assert [r["id"] for r in records] == list(grown_kb.references)
    assert {r["doi"].lower() for r in records if "doi" in r} == _dois(grown_kb)
    toljan = next(r for r in records if r["id"] == "toljan2018")
    assert toljan["type_of_reference"] == "JOUR"
    assert toljan["authors"] == ["Toljan, Karlo", "Vrooman, Bruce"]
    assert toljan["date"] == "2018/09/21/"
    imported = [r for r in records if r["id"].startswith("test2025")]
    assert imported and imported[0]["type_of_reference"] == "GEN"  # a Guideline-kind entry


def test_harvard_citations_come_from_citeproc(real_kb: KnowledgeBase) -> None:
    items = export.citation_list(real_kb, style="harvard")
    assert [i["id"] for i in items] == list(real_kb.references)
    toljan = next(i["citation"] for i in items if i["id"] == "toljan2018")
    assert toljan.startswith("Toljan, K. and Vrooman, B. (2018)")
    assert "Review of Therapeutic Utilization" in toljan
    assert "https://doi.org/10.3390/medsci6040082" in toljan
    text = export.citations_text(real_kb)
    assert text.count("\n") == len(real_kb.references)
    assert text.startswith("[younger2009] Younger, J. and Mackey, S. (2009)")


def test_vancouver_citations_are_the_reference_citation(real_kb: KnowledgeBase) -> None:
    items = export.citation_list(real_kb, style="vancouver")
    assert items == [{"id": r.id, "citation": r.citation()} for r in real_kb.references.values()]


def test_claims_csv_has_one_row_per_claim(grown_kb: KnowledgeBase) -> None:
    rows = list(csv.DictReader(io.StringIO(export.claims_csv(grown_kb))))
    assert len(rows) == len(grown_kb.claims)
    assert tuple(rows[0]) == export.CLAIM_COLUMNS
    by_id = {r["id"]: r for r in rows}
    assert len(by_id) == len(rows)
    row = by_id["seed-max-dose"]
    assert row["value_text"] == "4.5 mg/night"
    assert row["citations"] == "[1] droracle2025_overview; [2] spargo2025; [3] bostick2019"
    assert row["grade"] == grown_kb.grades["seed-max-dose"].grade
    assert row["conflicts"].split("; ") == grown_kb.conflicts_by_claim["seed-max-dose"]
    unresolved = [r for r in rows if r["origin"] == "import" and "[3] unresolved" in r["citations"]]
    assert len(unresolved) == 2


def test_graph_node_link_round_trip(real_kb: KnowledgeBase) -> None:
    g = from_node_link(json.loads(export.export_graph(real_kb, "node-link")))
    assert g.number_of_nodes() == real_kb.graph.number_of_nodes()
    assert g.number_of_edges() == real_kb.graph.number_of_edges()


def test_graph_graphml_reads_back(real_kb: KnowledgeBase, tmp_path: Path) -> None:
    path = tmp_path / "g.graphml"
    export.write_text_atomic(path, export.export_graph(real_kb, "graphml"))
    g = nx.read_graphml(path)
    assert g.number_of_nodes() == real_kb.graph.number_of_nodes()
    assert g.number_of_edges() == real_kb.graph.number_of_edges()


@pytest.mark.parametrize(
    ("call", "arg"), [(export.export_references, "endnote"), (export.export_graph, "gexf")]
)
def test_unknown_formats_are_named(real_kb: KnowledgeBase, call: object, arg: str) -> None:
    with pytest.raises(KBError, match=arg):
        call(real_kb, arg)  # type: ignore[operator]
    with pytest.raises(KBError, match="chicago"):
        export.citation_list(real_kb, style="chicago")


def test_write_text_atomic_makes_an_ordinary_file(tmp_path: Path) -> None:
    path = tmp_path / "out" / "refs.bib"
    export.write_text_atomic(path, "@misc{a,\n}\n")
    assert path.read_text("utf-8") == "@misc{a,\n}\n"
    assert path.stat().st_mode & 0o044  # readable by others, unlike a bare mkstemp file
    assert [p.name for p in path.parent.iterdir()] == ["refs.bib"]


# -- what a reference manager receives (issue 14 item 7) ---------------------------------------
# From the dossier (ldn_evidence.json): srinivasan2021 has no confirmed author, volume, DOI or
# PMID (its notes: "Author list, volume/pages and DOI were not visible"); bruun2024_final has
# issue 1 and pages e31-e39 but no volume; patten2018 has volume 38, page 382 and no year
# ("Year (2018) ... not seen in stored text and are therefore omitted").
ABSENT = {
    "srinivasan2021": {"author", "volume", "doi", "pmid", "url"},
    "bruun2024_final": {"volume"},
    "patten2018": {"year"},
}
PUBLIC = ("https://doi.org/", "https://pubmed.ncbi.nlm.nih.gov/")


def test_bibtex_has_public_links_and_no_empty_or_guessed_fields(real_kb: KnowledgeBase) -> None:
    library = bibtexparser.parse_string(export.references_bibtex(real_kb))
    assert library.failed_blocks == []
    entries = {e.key: e.fields_dict for e in library.entries}
    for key, fields in entries.items():
        for name, field in fields.items():
            assert str(field.value).strip() not in ("", "{}"), (key, name)
        if "url" in fields:
            assert fields["url"].value.startswith(PUBLIC), (key, fields["url"].value)
    for key, absent in ABSENT.items():
        assert not absent & set(entries[key]), (key, absent & set(entries[key]))
    assert (
        entries["bruun2024_final"]["url"].value == "https://doi.org/10.1016/s2665-9913(23)00278-3"
    )
    assert entries["bruun2024_final"]["number"].value == "1"
    assert entries["patten2018"]["volume"].value == "38"
    # A reference with a PMID and no DOI links to PubMed; no provenance page ever appears.
    provenance = {r.csl.get("URL") for r in real_kb.references.values()} - {None}
    assert not provenance & {f["url"].value for f in entries.values() if "url" in f}


def test_ris_has_public_links_and_no_empty_or_guessed_fields(real_kb: KnowledgeBase) -> None:
    records = {r["id"]: r for r in rispy.loads(export.references_ris(real_kb))}
    for rid, rec in records.items():
        for tag, value in rec.items():
            assert value not in ("", [], None), (rid, tag)
        for url in rec.get("urls", []):
            assert url.startswith(PUBLIC), (rid, url)
    srini = records["srinivasan2021"]
    assert "authors" not in srini and "urls" not in srini and "doi" not in srini
    assert "volume" not in records["bruun2024_final"]
    assert "year" not in records["patten2018"] and "date" not in records["patten2018"]
    assert records["bruun2024_final"]["urls"] == ["https://doi.org/10.1016/s2665-9913(23)00278-3"]


def test_csl_json_is_clean_for_reference_managers(real_kb: KnowledgeBase) -> None:
    items = {i["id"]: i for i in json.loads(export.references_csl_json(real_kb))}
    for rid, item in items.items():
        assert "custom" not in item
        assert all(v not in ("", [], {}, None) for v in item.values()), rid
        if "URL" in item:
            assert item["URL"].startswith(PUBLIC), rid
    assert "author" not in items["srinivasan2021"] and "URL" not in items["srinivasan2021"]
    assert "volume" not in items["bruun2024_final"] and "issued" not in items["patten2018"]
    assert items["toljan2018"]["URL"] == "https://doi.org/10.3390/medsci6040082"
