"""References: CSL-JSON items with project fields under ``custom``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["primary-study", "secondary-summary", "guideline"]


@dataclass(frozen=True)
class Reference:
    """One CSL-JSON item. ``csl`` is the record exactly as stored, so saving is lossless."""

    csl: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.csl["id"])

    @property
    def custom(self) -> dict[str, Any]:
        custom: dict[str, Any] = self.csl.get("custom", {})
        return custom

    @property
    def title(self) -> str:
        title: str = self.csl.get("title", "")
        return title

    @property
    def year(self) -> int | None:
        parts = (self.csl.get("issued") or {}).get("date-parts") or [[]]
        return int(parts[0][0]) if parts and parts[0] else None

    @property
    def doi(self) -> str | None:
        return self.csl.get("DOI")

    @property
    def pmid(self) -> str | None:
        return self.csl.get("PMID")

    @property
    def pmcid(self) -> str | None:
        return self.csl.get("PMCID")

    @property
    def design(self) -> str:
        design: str = self.custom.get("design", "not stated")
        return design

    @property
    def n(self) -> int | None:
        n = self.custom.get("n")
        return n if isinstance(n, int) else None

    @property
    def role(self) -> Role:
        role: Role = self.custom.get("role", "primary-study")
        return role

    @property
    def condition_ids(self) -> list[str]:
        return list(self.custom.get("condition_ids", []))

    @property
    def traced_to(self) -> list[str]:
        """For a secondary summary: the primary studies its numbers trace to."""
        return list(self.custom.get("traced_to", []))

    @property
    def publisher(self) -> str | None:
        return self.csl.get("publisher")

    @property
    def label(self) -> str:
        """Short label such as "Younger 2013" (first author, or journal/publisher, and year)."""
        authors = self.csl.get("author") or []
        if authors:
            first = authors[0]
            name = first.get("family") or first.get("literal") or "Anonymous"
        else:
            source = self.csl.get("container-title") or self.publisher or self.title
            name = source.split(":")[0]
        year = self.year
        return f"{name} {year}" if year else f"{name} (year not stated)"

    @property
    def public_url(self) -> str | None:
        """The public link: the DOI resolver where a DOI exists, else PubMed, else the URL."""
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        return self.csl.get("URL")

    @property
    def citation_url(self) -> str | None:
        """The link a citation carries: the DOI resolver, else PubMed, else none.

        Never ``URL``: that is where the metadata was read (often a mirror), not a public link.
        """
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        return None

    def citation(self) -> str:
        """A plain-text Vancouver-like citation for display."""
        authors = self.csl.get("author") or []
        names = []
        for a in authors[:6]:
            if "literal" in a:
                names.append(a["literal"])
            else:
                initials = "".join(
                    p[0] for p in (a.get("given") or "").replace("-", " ").split() if p
                )
                names.append(f"{a.get('family', '')} {initials}".strip())
        if len(authors) > 6:
            names.append("et al")
        bits = [", ".join(names) + "." if names else "", f"{self.title}."]
        journal = self.csl.get("container-title") or self.publisher
        if journal:
            src = journal + "."
            if self.year:
                src += f" {self.year}"
            vol, iss, page = (self.csl.get(k) for k in ("volume", "issue", "page"))
            if vol:
                src += f";{vol}"
            if iss:
                src += f"({iss})"
            if page:
                src += f":{page}"
            bits.append(src + ".")
        elif self.year:
            bits.append(f"{self.year}.")
        if self.doi:
            bits.append(f"doi:{self.doi}")
        if self.pmid:
            bits.append(f"PMID:{self.pmid}")
        return " ".join(b for b in bits if b)
