"""The JSON shapes every adapter (CLI, web API) returns, built once here."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Annotated, Any, Literal, NotRequired

# pydantic reads TypedDicts from typing_extensions only, before Python 3.12.
from typing_extensions import TypedDict

from .claims import VERDICT_LABELS
from .editorial import claim_reference_marks
from .pictures import Pictures
from .summary import Body

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase


def citation_json(kb: KnowledgeBase, claim_id: str) -> list[dict[str, Any]]:
    claim = kb.claim(claim_id)
    out = []
    for cit in claim.citations:
        item: dict[str, Any] = {"ref": cit.get("ref")}
        if "number" in cit:
            item["number"] = cit["number"]
        if cit.get("ref"):
            ref = kb.references[cit["ref"]]
            item.update(label=ref.label, doi=ref.doi, pmid=ref.pmid)
        else:
            item.update(
                label=f"[{cit.get('number')}] not in the article's reference list",
                doi=None,
                pmid=None,
            )
        out.append(item)
    return out


def claim_json(kb: KnowledgeBase, claim_id: str) -> dict[str, Any]:
    """A claim as every JSON output shows it (documented in README.md)."""
    claim = kb.claim(claim_id)
    grade = kb.grades[claim_id]
    primary = None
    if claim.primary is not None:
        p = claim.primary
        ref = kb.references[p["ref"]] if p.get("ref") else None
        primary = {
            "ref": p.get("ref"),
            "label": ref.label if ref else None,
            "verdict": p["verdict"],
            "verdict_label": VERDICT_LABELS[p["verdict"]],
            "note": p["note"],
        }
    return {
        "id": claim.id,
        "origin": claim.origin,
        "kind": claim.kind,
        "text": claim.text,
        "plain_text": claim.plain_text,
        "intervention": claim.intervention,
        "conditions": list(claim.conditions),
        "outcome": claim.outcome,
        "value": claim.value,
        "value_text": claim.value_text,
        "direction": claim.direction,
        "citations": citation_json(kb, claim_id),
        "primary_verdict": primary,
        "evidence": grade.to_dict(),
        "conflicts": kb.active_conflict_ids(claim_id),
        "editorial": editorial_json(kb, claim_id),
    }


def editorial_json(kb: KnowledgeBase, claim_id: str) -> dict[str, Any]:
    """What the editorial board says about a claim, as readers see it: its open flags
    (reason, by, at), whether any makes it contested by the board, and the marks on the
    references it rests on (``reference_marks``: retracted or expression of concern)."""
    state = kb.editorial
    flags = (
        []
        if state is None
        else [
            {"reason": f["reason"], "by": f["by"], "at": f["at"]}
            for f in state.open_flags(claim_id)
        ]
    )
    # Marks on the references it rests on (retracted, expression of concern): see
    # kb.editorial.claim_reference_marks.
    return {
        "flags": flags,
        "contested_by_board": bool(flags),
        "reference_marks": claim_reference_marks(kb, claim_id),
    }


def conflict_json(kb: KnowledgeBase, conflict_id: str) -> dict[str, Any]:
    """A conflict with each side's claims expanded to id, label, text and grade."""
    conflict = kb.conflict(conflict_id)
    data = conflict.to_dict()
    for side in data["sides"]:
        side["claims"] = [
            {
                "id": cid,
                "text": kb.claims[cid].text,
                "grade": kb.grades[cid].grade,
                "sources": [c["label"] for c in citation_json(kb, cid)],
            }
            for cid in side["claims"]
        ]
    data["condition_label"] = (
        kb.conditions.label(conflict.condition)
        if conflict.condition in kb.conditions
        else conflict.condition
    )
    return data


# -- typed shapes of the public JSON ---------------------------------------------------------
# Every document the web API (and `--json` CLI output) returns is described here once, as a
# TypedDict. web/openapi.py turns them into the OpenAPI response schemas (pydantic's
# TypeAdapter), so the spec cannot drift from this description. Allowed values are never
# retyped: ``OneOf("kb.module:CONSTANT")`` names the list where it is defined (imported only
# when a schema is generated: those modules import this one).


class Schema:
    """Annotation marker adding JSON Schema keywords (``Schema(minimum=0)``); read by
    pydantic when web/openapi.py generates the spec, plain data to everything else."""

    def __init__(self, **keywords: Any) -> None:
        self.keywords = keywords

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        schema.update(self.keywords)
        return schema


class OneOf(Schema):
    """The value is one of the lists ``"module:NAME"`` names (tuples, or dicts' keys): the
    lists where they are defined, never copies, imported only when a schema is generated
    (those modules import this one)."""

    def __init__(self, *where: str) -> None:
        super().__init__()
        self.where = where

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        schema["enum"] = [
            value
            for module, _, name in (w.partition(":") for w in self.where)
            for value in getattr(importlib.import_module(module), name)
        ]
        return schema


class Error(TypedDict):
    """Every error response: ``{"error": {"status", "message"}}``."""

    error: ErrorBody


class ErrorBody(TypedDict):
    status: int
    message: str


class Evidence(TypedDict):
    grade: Annotated[str, OneOf("kb.evidence:GRADE_ORDER")]
    cebm_level: int
    reasons: list[str]
    basis_ref: str | None
    body: str | None  # the body of evidence (kb.summary) the claim belongs to
    role: Annotated[str, OneOf("kb.claims:ROLES")] | None


class Citation(TypedDict):
    ref: str | None
    label: str
    doi: str | None
    pmid: str | None
    number: NotRequired[int]


class FlagSeen(TypedDict):
    reason: str
    by: str
    at: str


class ReferenceMark(TypedDict):
    """A reference the claim rests on that the board marked (kb.editorial.claim_reference_marks)."""

    ref: str
    label: str
    status: Annotated[str, OneOf("kb.editorial:REFERENCE_MARKS")]
    status_label: str
    reason: str
    notice: str | None
    by: str
    at: str


class ClaimEditorial(TypedDict):
    flags: list[FlagSeen]
    contested_by_board: bool
    reference_marks: list[ReferenceMark]


class Claim(TypedDict):
    """A claim as every JSON output shows it (:func:`claim_json`)."""

    id: str
    origin: str
    kind: str
    text: str
    plain_text: str | None
    intervention: str
    conditions: list[str]
    outcome: str
    value: dict[str, Any] | None
    value_text: str | None
    direction: Annotated[str, OneOf("kb.claims:DIRECTIONS")]
    citations: list[Citation]
    primary_verdict: dict[str, Any] | None
    evidence: Evidence
    conflicts: list[str]
    editorial: ClaimEditorial


class Decided(TypedDict):
    decision: Literal["dismissed", "resolved"]
    by: str
    at: str
    reason: str


class ConflictEditorial(TypedDict):
    version: int
    decision: Decided | None


class SideClaim(TypedDict):
    id: str
    text: str
    grade: str
    sources: list[str]


class ConflictSide(TypedDict):
    label: str
    claims: list[SideClaim]
    total: NotRequired[int]
    more: NotRequired[int]


class ConflictTitle(TypedDict):
    """A conflict named, not shown: its id and readable title."""

    id: str
    title: str


class Conflict(TypedDict):
    id: str
    type: Annotated[str, OneOf("kb.contested:TYPE_LABELS")]
    topic: str
    intervention: str
    kind: str
    outcome: str
    condition: str
    condition_label: str
    scope: str
    explanation: str
    sides: list[ConflictSide]
    title: str  # readable, built from the conflict's data
    context: bool  # indirect context: shown, never lowers a grade
    sides_total: NotRequired[int]
    sides_more: NotRequired[int]
    source: NotRequired[Literal["computed", "editor"]]
    editorial: NotRequired[ConflictEditorial]


class RefSummary(TypedDict):
    id: str
    label: str
    title: str
    design: str
    role: str
    doi: str | None
    pmid: str | None
    url: str | None


class Segment(TypedDict):
    text: str
    term: str | None


class Caveat(TypedDict):
    """A caveat shown next to a statement (``kb.pages.caveats``)."""

    kind: Literal["verdict", "indirect"]
    verdict: NotRequired[str]
    level: Literal["ok", "nuance", "warn", "unchecked"]
    label: str
    text: str | None
    details: str | None


class Statement(Claim):
    display_text: str
    contested: bool
    contested_label: str
    segments: list[Segment]
    flagged_verdict: dict[str, Any] | None
    caveats: list[Caveat]
    # Patient view: "One source says:" before a statement the checks reject or nobody checked.
    hedge: str | None
    # Shown in full above (bottom line number, or "Safety first"); the section points there.
    in_bottom_line: int | None
    in_safety: NotRequired[bool]
    # Article pages: the conflicts whose cards sit under the statement (the others are linked)
    conflicts_inline: NotRequired[list[str]]


class Section(TypedDict):
    heading: str
    level: int
    statements: list[Statement]
    subsections: list[Section]


class ReviewStep(TypedDict):
    status: str
    label: str
    state: Literal["done", "current", "todo"]


class NewConflictSeen(TypedDict):
    id: str
    topic: str
    explanation: str


class Approval(TypedDict):
    """An approved article's last approval and what changed since (kb.dashboard.approval_view)."""

    at: str
    by: str
    reason: str
    acknowledge: str | None
    at_approval: dict[str, int]
    changed: bool
    changes: list[HistoryEvent]
    new_conflicts: list[NewConflictSeen]


class ArticleReferenceMark(ReferenceMark):
    claims: list[str]


class Review(TypedDict):
    status: str
    label: str
    pending: bool
    steps: list[ReviewStep]
    approval: Approval | None
    reference_marks: list[ArticleReferenceMark]


class ListedReference(RefSummary):
    number: int
    citation: str
    in_original_list: bool
    resolution: dict[str, Any] | None


class GlossaryTerm(TypedDict):
    id: str
    term: str
    definition: str


class VerdictCount(TypedDict):
    verdict: str
    label: str
    count: int


class ArticleCounts(TypedDict):
    statements: int
    contested: int
    conflicts: int
    not_supported: int
    verdicts: list[VerdictCount]
    indirect: int
    flagged_by_board: int


class ArticleTopic(TypedDict):
    intervention: str
    condition: str | None
    condition_label: str | None


class ArticlePictures(Pictures):
    """``kb.pictures.evidence_map`` and ``kb.pictures.forest_plot`` of the article's topic
    (the same shape as a condition page's ``pictures``)."""


class Comment(TypedDict):
    by: str
    at: str
    text: str


class StatusMove(TypedDict):
    status: Annotated[str, OneOf("kb.articles:REVIEW_STATUSES")]
    label: str
    direction: Literal["back", "forward", "again"]


class ArticleBoard(TypedDict):
    version: int
    comments: list[Comment]
    moves: list[StatusMove]
    concerns: dict[str, int]
    approval: Approval | None
    history_count: int


class Article(TypedDict):
    """An answer article page (``/articles/<id>``)."""

    id: str
    title: str
    question: str
    audience: Annotated[str, OneOf("kb.pages:AUDIENCES")]
    audiences: list[dict[str, Any]]
    review: Review
    last_updated: str
    disclaimer: str | None
    source: RefSummary | None
    bottom_line: list[Statement]
    sections: list[Section]
    references: list[ListedReference]
    conflicts: list[Conflict]  # in full: the first kb.pages.ARTICLE_CONFLICTS
    conflicts_more: list[ConflictTitle]  # the rest, by title (shown on /contested)
    glossary: list[GlossaryTerm]
    counts: ArticleCounts
    board: ArticleBoard
    box_help: list[dict[str, str]]
    safety: list[Statement]
    topic: ArticleTopic
    summary_of_findings: list[Body]  # the first kb.pages.ARTICLE_SOF_ROWS kb.summary rows
    summary_not_shown: int  # rows beyond kb.pages.ARTICLE_SOF_ROWS (see /summary)
    pictures: ArticlePictures


class Labelled(TypedDict):
    id: str
    label: str


class Trace(TypedDict):
    claim: str
    origin: str
    steps: list[dict[str, Any]]
    primary: dict[str, Any] | None


class RelatedClaim(TypedDict):
    id: str
    text: str
    grade: str
    why: list[str]


class Titled(TypedDict):
    id: str
    title: str


class Flag(TypedDict):
    id: str
    status: Literal["open", "resolved", "dismissed"]
    reason: str
    by: str
    at: str


class Proposal(TypedDict):
    by: str
    at: str
    verdict: str
    verdict_label: str
    reason: str


class SetAside(TypedDict):
    id: str
    type: str
    topic: str
    explanation: str
    source: str
    version: int
    decision: Decided | None


class Choice(TypedDict):
    value: str
    label: str


class ClaimBoard(TypedDict):
    version: int
    open_flags: int
    history_count: int
    flags: list[Flag]
    comments: list[Comment]
    proposals: list[Proposal]
    verdict: dict[str, Any] | None
    dismissed_conflicts: list[SetAside]
    verdicts: list[Choice]


class ClaimPage(TypedDict):
    """A claim page (``/claims/<id>``): the claim, its trace, conflicts and related claims."""

    claim: Claim
    conditions: list[Labelled]
    trace: Trace
    contradicted_by: list[Conflict]
    related: list[RelatedClaim]
    body: Body | None  # the body of evidence its badge links to
    articles: list[Titled]
    board: ClaimBoard


class ReferenceDetail(RefSummary):
    citation: str
    year: int | None
    n: int | None
    pmcid: str | None
    design_label: str


class DependentClaim(TypedDict):
    id: str
    text: str
    how: list[str]
    grade: str


class DependentArticle(TypedDict):
    id: str
    title: str
    how: list[str]


class MarkSet(TypedDict):
    status: Annotated[str, OneOf("kb.editorial:REFERENCE_MARKS")]
    status_label: str
    reason: str
    notice: str | None
    by: str
    at: str


class ReferenceBoard(TypedDict):
    """The board's panel on a reference page (kb.dashboard.board_reference)."""

    version: int
    mark: MarkSet | None
    marks: list[Choice]


class ReferencePage(TypedDict):
    """A reference page (``/references/<id>``) and everything that depends on it."""

    reference: ReferenceDetail
    traces_to: list[RefSummary]
    traced_from: list[RefSummary]
    claims: list[DependentClaim]
    claims_total: int
    articles: list[DependentArticle]
    board: ReferenceBoard


class ClaimHit(Claim):
    type: Literal["claim"]
    score: float
    highlight: str


class ReferenceHit(TypedDict):
    type: Literal["reference"]
    id: str
    label: str
    title: str
    design: str
    score: float
    highlight: str


class Facets(TypedDict):
    kind: dict[str, int]
    condition: dict[str, int]
    grade: dict[str, int]
    design: dict[str, int]


class SearchResults(TypedDict):
    """One page of search results with facets (``/search?q=``)."""

    query: str
    total: int
    page: int
    limit: int
    results: list[ClaimHit | ReferenceHit]
    facets: Facets
    suggestion: str | None
    warnings: list[str]
    labels: dict[str, dict[str, str]]


class BottomLine(TypedDict):
    source: Literal["article"]
    article_id: str | None
    title: NotRequired[str | None]
    text: str
    claims: list[Claim]


class AnswerCite(TypedDict):
    claim: str
    label: str


class AnswerSentence(TypedDict):
    """One sentence of a direct answer, tied to the claims it is built from."""

    text: str
    claims: list[str]
    grade: str
    cites: list[AnswerCite]


class DirectAnswer(TypedDict):
    """One to three sentences built only from claims (``kb.ask.compose``)."""

    text: str
    claims: list[str]
    certainty: str | None
    note: str | None
    sentences: list[AnswerSentence]


class MeterStudy(TypedDict):
    ref: str
    label: str
    design: str
    design_label: str
    n: int | None
    side: Literal["for", "against", "mixed", "neutral"]
    claims: list[str]
    mark: str | None  # an editor's mark on the study: "concern" (retracted ones are excluded)


class MeterGroup(TypedDict):
    id: str
    label: str
    participants: int | None  # over every study of the group, listed or not
    studies: list[MeterStudy]  # the strongest first, at most kb.ask.METER_LISTED
    not_listed: int  # studies of the group counted but not listed


# "for" is a Python keyword: the functional form keeps it as the JSON key.
MeterCounts = TypedDict("MeterCounts", {"for": int, "against": int, "mixed": int, "neutral": int})


class MeterExcluded(TypedDict):
    """A study an editor marked retracted: listed, never counted."""

    ref: str
    label: str
    status: str


class Meter(TypedDict):
    """ "Does it work?": distinct studies for / against / mixed / neutral, by design."""

    studies: int
    counts: MeterCounts
    groups: list[MeterGroup]
    excluded: list[MeterExcluded]


class AnswerSection(TypedDict):
    kind: str
    label: str
    total: NotRequired[int]
    claims: list[Claim]


class Answer(TypedDict):
    """An answer built only from knowledge-base claims (``/ask?q=``)."""

    question: str
    relevant: bool
    message: str
    answer: DirectAnswer | None
    meter: Meter | None
    bottom_line: BottomLine | None
    sections: list[AnswerSection]
    contested: list[Conflict]
    follow_ups: list[str]
    # "Does it work?" answers: kb.pictures.for_answer (render with _evidence_map.html).
    evidence_map: dict[str, Any] | None


class Facet(TypedDict):
    value: str
    label: str
    count: int


class ContestedFilters(TypedDict):
    type: str | None
    condition: str | None


class ContestedFacets(TypedDict):
    type: list[Facet]
    condition: list[Facet]


class ConflictGroup(TypedDict):
    topic: str
    intervention: str
    kind: str
    outcome: str
    conflicts: list[Conflict]


class Contested(TypedDict):
    """Every conflict readers see, grouped by topic (``/contested``)."""

    total: int
    shown: int
    filters: ContestedFilters
    facets: ContestedFacets
    groups: list[ConflictGroup]


class MatrixScope(TypedDict):
    type: Literal["article", "condition"]
    id: str
    label: str


class MatrixReference(TypedDict):
    id: str
    label: str
    design: str
    role: str
    number: int | None
    claims: int


class MatrixRow(TypedDict):
    id: str
    text: str
    grade: str
    contested: bool
    cells: list[list[str]]


class MatrixScopes(TypedDict):
    articles: list[dict[str, Any]]
    conditions: list[dict[str, Any]]


class Matrix(TypedDict):
    """Claims × references for an article or a condition (``/matrix``)."""

    scope: MatrixScope
    references: list[MatrixReference]
    rows: list[MatrixRow]
    total_claims: int
    truncated: bool
    relations: dict[str, str]
    scopes: MatrixScopes


class Integrity(TypedDict):
    """The integrity report (:func:`kb.integrity.report`)."""

    unresolved_citations: list[dict[str, Any]]
    secondary_sources_traced_elsewhere: list[dict[str, Any]]
    self_citations: list[dict[str, Any]]
    claims_without_citation: list[str]
    unused_references: list[str]
    missing_identifiers: list[dict[str, Any]]
    seed_claims_not_supported: list[dict[str, Any]]


class HomeArticle(TypedDict):
    id: str
    title: str
    question: str
    review_status: str
    last_updated: str
    statements: int
    contested: int


class HomeCounts(TypedDict):
    claims: int
    references: int
    articles: int
    conflicts: int


class Home(TypedDict):
    """The front page: articles, counts, contested count."""

    articles: list[HomeArticle]
    counts: HomeCounts
    contested_count: int


class Policy(TypedDict):
    """The grading and conflict rules the editorial policy describes."""

    grades: list[str]
    designs: list[dict[str, Any]]
    roles: list[str]
    ois_continuous: int
    ois_events: int
    conflict_types: list[dict[str, Any]]
    review_statuses: list[dict[str, Any]]


class Glossary(TypedDict):
    terms: list[GlossaryTerm]


class Health(TypedDict):
    status: Literal["ok"]
    claims: int
    references: int


class HistoryTarget(TypedDict):
    kind: Literal["claim", "article"]
    id: str
    label: str
    version: int


class HistoryEvent(TypedDict):
    id: str
    at: str
    actor: str
    role: str | None
    action: str
    action_label: str
    target: str
    target_kind: Literal["claim", "article", "conflict", "reference", "user"]
    target_id: str
    target_label: str
    reason: str
    change: str
    before: dict[str, Any]
    after: dict[str, Any]
    base_version: NotRequired[int | None]


class History(TypedDict):
    """Who changed what about a claim or an article, when and why."""

    target: HistoryTarget
    total: int
    events: list[HistoryEvent]


class QueuedClaim(TypedDict):
    id: str
    text: str


class QueuedFlagDetail(TypedDict):
    id: str
    reason: str
    by: str
    at: str


class QueuedFlag(TypedDict):
    claim: QueuedClaim
    flag: QueuedFlagDetail
    version: int


class QueuedConflict(TypedDict):
    id: str
    type: str
    type_label: str
    topic: str
    explanation: str
    source: str
    claims: int
    version: int
    decision: Decided | None


class Queue(TypedDict):
    flags: list[QueuedFlag]
    conflicts: list[QueuedConflict]
    conflicts_total: int


class BoardArticle(TypedDict):
    id: str
    title: str
    last_updated: str
    version: int
    moves: list[StatusMove]
    changed_since_approval: bool


class StatusColumn(TypedDict):
    status: str
    label: str
    articles: list[BoardArticle]


class DashboardCounts(TypedDict):
    events: int
    open_flags: int
    active_conflicts: int
    set_aside: int


class Dashboard(TypedDict):
    """The editorial dashboard: the board's queue, articles by status, recent activity."""

    queue: Queue
    set_aside: list[SetAside]
    articles: list[StatusColumn]
    activity: list[HistoryEvent]
    problems: list[str]
    counts: DashboardCounts
    conflict_types: list[Choice]


class DownloadItem(TypedDict):
    name: str
    url: str
    label: str
    description: str
    media_type: str
    command: str


class DownloadCounts(TypedDict):
    references: int
    claims: int


class Downloads(TypedDict):
    """Every download with its link, media type and the kb command giving the same bytes."""

    downloads: list[DownloadItem]
    citation_styles: list[Annotated[str, OneOf("kb.export:CITATION_STYLES")]]
    counts: DownloadCounts


class User(TypedDict):
    name: str
    role: Literal["reviewer", "editor", "admin"]


class Csrf(TypedDict):
    csrf_token: str
    user: User | None


class Login(TypedDict):
    user: User
    csrf_token: str


class Logout(TypedDict):
    user: None


class Credentials(TypedDict):
    name: str
    password: str


class Edit(TypedDict):
    """The body of an editorial action; which fields it needs depends on the action."""

    base_version: Annotated[int, Schema(minimum=0)]
    reason: NotRequired[str]
    text: NotRequired[str]
    verdict: NotRequired[Annotated[str, OneOf("kb.claims:VERDICTS")]]
    note: NotRequired[str]
    # set-status: an article's next or previous status; references mark: retracted or concern
    status: NotRequired[
        Annotated[str, OneOf("kb.articles:REVIEW_STATUSES", "kb.editorial:REFERENCE_MARKS")]
    ]
    # set-status to approved over open flags, active conflicts or marked references: why
    acknowledge: NotRequired[str]
    notice: NotRequired[str]  # references mark: web address of the notice
    flag: NotRequired[str]


class NewSide(TypedDict):
    claims: list[str]
    label: NotRequired[str]


class NewConflict(TypedDict):
    type: Annotated[str, OneOf("kb.contested:TYPE_LABELS")]
    explanation: str
    topic: NotRequired[str]
    reason: NotRequired[str]
    sides: Annotated[list[NewSide], Schema(minItems=2, maxItems=6)]


class Event(TypedDict):
    id: str
    at: str
    actor: str
    role: str
    action: str
    target: str
    reason: str
    base_version: int
    before: dict[str, Any]
    after: dict[str, Any]


class TargetState(TypedDict):
    target: str
    version: int
    review_status: NotRequired[str]
    flags: NotRequired[list[dict[str, Any]]]
    verdict: NotRequired[str | None]
    decision: NotRequired[dict[str, Any] | None]


class EditResult(TypedDict):
    event: Event
    current: TargetState


class StaleErrorBody(TypedDict):
    status: Literal[409]
    message: str


class StaleEdit(TypedDict):
    """A 409: the target changed since ``base_version``; its current state."""

    error: StaleErrorBody
    current: TargetState


class ImportedClaim(TypedDict):
    id: str
    line: int
    kind: str
    outcome: str
    intervention: str
    conditions: list[str]
    value_text: str | None
    direction: str
    citations: list[int]
    text: str


class NewReference(TypedDict):
    number: int
    line: int
    ref: str
    title: str
    year: int | None
    type: str
    role: str


class MatchedReference(TypedDict):
    number: int
    line: int
    ref: str
    title: str
    year: int | None
    matched_by: Literal["doi", "title and year"]


class UnresolvedCitation(TypedDict):
    number: int
    lines: list[int]
    claims: list[str]


class NotUnderstood(TypedDict):
    line: int
    text: str
    reason: str


class Furniture(TypedDict):
    line: int
    text: str


# "with" is a keyword, so this one is spelt the functional way (values are forward references).
ImportConflict = TypedDict(
    "ImportConflict",
    {
        "id": "str",
        "type": "Annotated[str, OneOf('kb.contested:TYPE_LABELS')]",
        "explanation": "str",
        "claims": "list[str]",
        "with": "list[str]",
    },
)


class ImportCounts(TypedDict):
    claims: int
    references_new: int
    references_matched: int
    unresolved_citations: int
    not_understood: int
    skipped_furniture: int
    conflicts: int


class ImportReport(TypedDict):
    """What an import found and did (``kb import``, ``POST /api/import``)."""

    file: str
    article_id: str
    title: str
    question: str
    last_updated: str
    last_updated_from: Literal["document", "caller"]
    dry_run: bool
    unchanged: bool
    written: bool
    claims: list[ImportedClaim]
    references_new: list[NewReference]
    references_matched: list[MatchedReference]
    unresolved_citations: list[UnresolvedCitation]
    not_understood: list[NotUnderstood]
    skipped_furniture: list[Furniture]
    conflicts: list[ImportConflict]
    warnings: list[str]
    counts: ImportCounts
