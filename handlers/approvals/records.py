"""Drafts as store records: every text change is a new version, decisions
are kept in order, and the approval steps carry who approved what."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.core.accounts import StepMode
from bot.core.storage import Record

KIND = "draft"


class DraftState(StrEnum):
    """Where a draft is in its life."""

    EDITING = "editing"  # saved, not submitted (the lint blocked it)
    PENDING = "pending"  # waiting for the current step's approvers
    CHANGES = "changes_requested"
    APPROVED = "approved"  # approved, waiting to be published
    PUBLISHED = "published"
    FAILED = "failed"  # the publishing webhook refused it; may be retried
    CANCELLED = "cancelled"  # a failed publication given up by a person
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    MISSED = "missed"  # a scheduled post whose approvals came too late

    @property
    def decided(self) -> bool:
        """No approver can act on it any more."""
        return self not in (DraftState.EDITING, DraftState.PENDING, DraftState.CHANGES)


OPEN_STATES = (
    DraftState.EDITING,
    DraftState.PENDING,
    DraftState.CHANGES,
    DraftState.APPROVED,
    DraftState.FAILED,
)


@dataclass(frozen=True)
class Version:
    """One text of the draft; ``author`` wrote (or edited) it."""

    number: int
    text: str
    author: str
    at: datetime


@dataclass(frozen=True)
class Step:
    """One approval step as planned for this draft: the people who may
    approve it (resolved from roles at submission, backups added on expiry)."""

    name: str
    mode: StepMode
    people: tuple[str, ...]
    approved_by: tuple[str, ...] = ()
    due_at: datetime | None = None
    backups: tuple[str, ...] = ()  # added when the deadline passed

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.people, *self.backups)))


@dataclass(frozen=True)
class Decision:
    """Something a person did to the draft (shown on the card, in order)."""

    what: str  # submitted, approved, changes_requested, edited, rejected, withdrawn, ...
    by: str
    at: datetime
    version: int
    note: str = ""


@dataclass(frozen=True)
class Draft:
    """A reply to a mention (``mention_key``) or a new post on an account."""

    id: str
    account_id: str
    spoke: str
    author: str
    created_at: datetime
    versions: tuple[Version, ...]
    state: DraftState = DraftState.EDITING
    mention_key: str | None = None
    steps: tuple[Step, ...] = ()
    step_index: int = 0
    warnings: tuple[str, ...] = ()  # lint warnings on the current version, in words
    legal_reasons: tuple[str, ...] = ()
    history: tuple[Decision, ...] = ()
    no_approval_rule: str | None = None
    publish_at: datetime | None = None
    published_url: str | None = None
    publish_round: int = 0  # 0 when approved, +1 for each retry after a failure
    failure: str = ""  # the receiver's reason, when publishing failed
    # Who else follows this draft: the feature that asked for it
    # (``crisis:CR-4:first``, a holding statement) and the publishing pauses
    # holding it (``crisis:CR-4``). Each is told of every change by a timer of
    # kind ``<feature>.draft_changed`` (see ``routes.follow_watchers``).
    origin: str | None = None
    held_by: tuple[str, ...] = ()
    version: int = 0  # the record's version (compare-and-set)

    @property
    def current(self) -> Version:
        return self.versions[-1]

    @property
    def text(self) -> str:
        return self.current.text

    @property
    def previous(self) -> Version | None:
        return self.versions[-2] if len(self.versions) > 1 else None

    @property
    def writers(self) -> frozenset[str]:
        """Everyone who wrote a version: none of them may approve it."""
        return frozenset(v.author for v in self.versions)

    @property
    def step(self) -> Step | None:
        if self.state is not DraftState.PENDING or self.step_index >= len(self.steps):
            return None
        return self.steps[self.step_index]

    @property
    def watchers(self) -> tuple[str, ...]:
        """The origin and the pauses holding it: who is told of a change."""
        return tuple(dict.fromkeys((*((self.origin,) if self.origin else ()), *self.held_by)))

    @property
    def approved_by(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for s in self.steps for p in s.approved_by))

    def last(self, *what: str) -> Decision | None:
        """The latest decision of one of these kinds."""
        return next((d for d in reversed(self.history) if d.what in what), None)

    def evolve(self, **changes: Any) -> Draft:
        return replace(self, **changes)


def tags_for(draft: Draft) -> frozenset[str]:
    """By state; by author; waiting approvers while pending; by mention."""
    tags = {f"state:{draft.state}", f"author:{draft.author}"}
    tags.update(f"writer:{p}" for p in draft.writers)
    step = draft.step
    if step is not None:
        tags.update(f"approver:{p}" for p in step.approvers)
    if draft.mention_key:
        tags.add(f"mention:{draft.mention_key}")
    if draft.publish_at is not None and draft.state is DraftState.APPROVED:
        tags.add("scheduled")
    if draft.origin:
        tags.add(f"origin:{draft.origin}")
    if draft.held_by:
        tags.add("held")
        tags.update(f"held:{ref}" for ref in draft.held_by)
    return frozenset(tags)


def to_record(draft: Draft) -> Record:
    data: dict[str, Any] = {
        "account_id": draft.account_id,
        "spoke": draft.spoke,
        "author": draft.author,
        "created_at": draft.created_at.isoformat(),
        "versions": [
            {"number": v.number, "text": v.text, "author": v.author, "at": v.at.isoformat()}
            for v in draft.versions
        ],
        "state": draft.state.value,
        "mention_key": draft.mention_key,
        "steps": [
            {
                "name": s.name,
                "mode": s.mode.value,
                "people": list(s.people),
                "approved_by": list(s.approved_by),
                "due_at": _iso(s.due_at),
                "backups": list(s.backups),
            }
            for s in draft.steps
        ],
        "step_index": draft.step_index,
        "warnings": list(draft.warnings),
        "legal_reasons": list(draft.legal_reasons),
        "history": [
            {
                "what": d.what,
                "by": d.by,
                "at": d.at.isoformat(),
                "version": d.version,
                "note": d.note,
            }
            for d in draft.history
        ],
        "no_approval_rule": draft.no_approval_rule,
        "publish_at": _iso(draft.publish_at),
        "published_url": draft.published_url,
        "publish_round": draft.publish_round,
        "failure": draft.failure,
        "origin": draft.origin,
        "held_by": list(draft.held_by),
    }
    return Record(KIND, draft.id, data, draft.version, tags_for(draft))


def from_record(record: Record) -> Draft:
    d = record.data
    return Draft(
        id=record.key,
        account_id=d["account_id"],
        spoke=d["spoke"],
        author=d["author"],
        created_at=datetime.fromisoformat(d["created_at"]),
        versions=tuple(
            Version(v["number"], v["text"], v["author"], datetime.fromisoformat(v["at"]))
            for v in d["versions"]
        ),
        state=DraftState(d["state"]),
        mention_key=d.get("mention_key"),
        steps=tuple(
            Step(
                name=s["name"],
                mode=StepMode(s["mode"]),
                people=tuple(s["people"]),
                approved_by=tuple(s["approved_by"]),
                due_at=_dt(s.get("due_at")),
                backups=tuple(s.get("backups") or ()),
            )
            for s in d.get("steps", ())
        ),
        step_index=int(d.get("step_index", 0)),
        warnings=tuple(d.get("warnings") or ()),
        legal_reasons=tuple(d.get("legal_reasons") or ()),
        history=tuple(
            Decision(h["what"], h["by"], datetime.fromisoformat(h["at"]), h["version"], h["note"])
            for h in d.get("history", ())
        ),
        no_approval_rule=d.get("no_approval_rule"),
        publish_at=_dt(d.get("publish_at")),
        published_url=d.get("published_url"),
        publish_round=int(d.get("publish_round", 0)),
        failure=str(d.get("failure", "")),
        origin=d.get("origin"),
        held_by=tuple(d.get("held_by") or ()),
        version=record.version,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
