"""Answer articles: a question, a bottom line and sections of claims, with a numbered reference list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

REVIEW_STATUSES: tuple[str, ...] = ("submitted", "under_review", "approved")
STATUS_LABELS = {"submitted": "Submitted", "under_review": "Under review", "approved": "Approved"}


class ArticleRecord(TypedDict):
    """One record of ``articles.json`` as stored (``kb/schemas/articles.schema.json``)."""

    id: str
    title: str
    question: str
    source_ref: str | None
    review_status: str
    last_updated: str
    audience: NotRequired[str]
    disclaimer: NotRequired[str | None]
    bottom_line: list[str]
    sections: list[dict[str, Any]]
    reference_list: list[dict[str, Any]]
    citation_resolutions: list[dict[str, Any]]


@dataclass(frozen=True, eq=False)
class Article:
    record: ArticleRecord

    @property
    def id(self) -> str:
        return self.record["id"]

    @property
    def title(self) -> str:
        return self.record["title"]

    @property
    def question(self) -> str:
        return self.record["question"]

    @property
    def review_status(self) -> str:
        return self.record["review_status"]

    @property
    def last_updated(self) -> str:
        return self.record["last_updated"]

    @property
    def source_ref(self) -> str | None:
        return self.record["source_ref"]

    @property
    def bottom_line(self) -> list[str]:
        return self.record["bottom_line"]

    @property
    def sections(self) -> list[dict[str, Any]]:
        return self.record["sections"]

    def walk_sections(self) -> Iterator[tuple[list[str], dict[str, Any]]]:
        """Yield (heading path, section) depth-first, in the article's order."""

        def walk(
            sections: list[dict[str, Any]], path: list[str]
        ) -> Iterator[tuple[list[str], dict[str, Any]]]:
            for sec in sections:
                here = [*path, sec["heading"]]
                yield here, sec
                yield from walk(sec.get("subsections", []), here)

        yield from walk(self.sections, [])

    def claim_ids(self) -> list[str]:
        """Every claim id in the article, bottom line first, without repeats, in order."""
        seen: dict[str, None] = dict.fromkeys(self.bottom_line)
        for _, sec in self.walk_sections():
            seen.update(dict.fromkeys(sec.get("claims", [])))
        return list(seen)

    def reference_for(self, number: int) -> str | None:
        """What citation ``number`` resolves to in the article's own reference list."""
        for item in self.record["reference_list"]:
            if item["number"] == number:
                return str(item["ref"])
        return None

    def resolution_for(self, number: int) -> dict[str, Any] | None:
        """A reviewable resolution for a number the article's own list lacks, if any."""
        for item in self.record["citation_resolutions"]:
            if item["number"] == number:
                return item
        return None

    @property
    def reference_list(self) -> list[dict[str, Any]]:
        return self.record["reference_list"]

    @property
    def citation_resolutions(self) -> list[dict[str, Any]]:
        return self.record["citation_resolutions"]
