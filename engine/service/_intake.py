"""The intake policy, the one the daemon, ``calmly simulate`` and ``calmly test`` all run: a mention is a
duplicate (the same id, or the same post under another id), joins an open incident (or the one an incident it
belongs to was merged into, or its group's), opens one (linked to the incident it follows up, when it matches a
higher-priority playbook), or is ignored when no playbook applies. A join that makes a surge fire opens the crisis
it asks for in the same unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.incident import (
    MUTED_UNTIL,
    Incident,
    JoinInto,
    JoinMention,
    LinkIncident,
    Mention,
    Merged,
    NoMatch,
    OpenUnder,
    Stepped,
    belongs,
    joins,
    merge_target,
    open_incident,
    route,
    silences,
    step,
)
from engine.incident import parse_mention as read_mention
from engine.playbook import Failed
from engine.service._applying import apply_step
from engine.service._library import Library
from engine.service._outcomes import Change, IntakeResult, IntakeStatus
from engine.service._surging import group_join, note_missing_crises, open_crises
from engine.store import (
    EventKind,
    JoinCommand,
    MentionOutcome,
    MutedCommand,
    OpenCommand,
    PassedOnCommand,
    UnitOfWork,
    encode_command,
)

__all__ = ["intake", "parse_mentions"]


def parse_mentions(items: Sequence[Any], now: datetime) -> list[Mention | IntakeResult]:
    """Each item (mended already: see :func:`engine.incident.mend_mention`) as a mention, or as an ``invalid``
    result saying what is wrong with it (where, and why)."""
    parsed: list[Mention | IntakeResult] = []
    for item in items:
        found = read_mention(item, now=now, mended=True)
        if isinstance(found, Failed):
            errors = tuple({"pointer": error.pointer, "message": error.message} for error in found.problems)
            message = "; ".join(e["message"] for e in errors)
            parsed.append(IntakeResult(IntakeStatus.INVALID, message=message, errors=errors))
        else:
            parsed.append(found)
    return parsed


def _merged(tx: UnitOfWork, library: Library, mention: Mention) -> list[Merged]:
    """The closed incidents a merge closed that the mention belongs to (its thread, or its author within the join
    window), each with the open incident at the end of its merges; one each, the latest merged first."""

    def is_closed(incident: Incident) -> bool:
        return library.by_digest(incident.playbook_digest).is_final(incident.state)

    found: list[Merged] = []
    for closed in tx.incidents.merged_for(mention.channel, mention.author_key, mention.thread_id):
        if not belongs(closed, mention, library.by_digest(closed.playbook_digest)):
            continue
        target = merge_target(closed, tx.incidents.get, is_closed)
        if target is not None and all(merge.incident.id != target.id for merge in found):
            found.append(Merged(target, library.by_digest(target.playbook_digest), closed))
    return found


def _note_on_closed(
    tx: UnitOfWork, closed: Incident, mention: Mention, now: datetime, command: PassedOnCommand | MutedCommand
) -> None:
    """A closed incident's log and history say what became of a mention about it (passed on to the incident it
    was merged into, or kept as its muted author's post); its row stays as it was."""
    about = f"mention {mention.channel}/{mention.external_id} by {mention.author.handle}"
    details: dict[str, Any] = {"external_id": mention.external_id, "author": mention.author.handle}
    if isinstance(command, PassedOnCommand):
        kind, history = EventKind.PASSED_ON, "passed_on"
        summary = f"{about} joined {command.to}, which this incident was merged into"
        details["incident"] = command.to
    else:
        kind, history = EventKind.MUTED, "muted_post"
        summary = f"{about} recorded here: the author is muted until {command.until}"
        details["until"] = command.until
    entry = {"at": now.isoformat(), "kind": history, "summary": summary, "actor": None, "details": details}
    tx.events.append(
        closed.id,
        at=now,
        kind=kind.value,
        actor=None,
        playbook_digest=closed.playbook_digest,
        command=encode_command(command),
        history=(entry,),
    )


def intake(
    tx: UnitOfWork, library: Library, mention: Mention, raw: Any, *, now: datetime, changes: list[Change]
) -> IntakeResult:
    """Take one valid mention (``raw`` as it came) in the caller's unit of work."""
    seen = tx.mentions.get(mention.channel, mention.external_id)
    if seen is not None:
        return IntakeResult(
            IntakeStatus.DUPLICATE,
            seen.incident_id,
            message=f"already received ({seen.outcome})",
            same_as=(seen.channel, seen.external_id),
        )
    link = mention.url_key
    seen = None if link is None else tx.mentions.by_url(link)
    if seen is not None:  # the same post, reported by another listening tool (or under another id)
        return IntakeResult(
            IntakeStatus.DUPLICATE,
            seen.incident_id,
            message=f"the same post as {seen.channel}/{seen.external_id}, already received ({seen.outcome})",
            same_as=(seen.channel, seen.external_id),
        )

    def record(outcome: MentionOutcome, incident_id: str | None) -> None:
        tx.mentions.record(
            mention.channel,
            mention.external_id,
            outcome=outcome.value,
            incident_id=incident_id,
            body=raw,
            at=now,
            url_key=link,
            source=mention.source,
        )

    candidates = [
        (candidate, library.by_digest(candidate.playbook_digest))
        for candidate in tx.incidents.open_for(mention.channel, mention.author_key, mention.thread_id)
    ]
    where = route(mention, candidates, library.current, _merged(tx, library, mention))
    if isinstance(where, NoMatch):
        record(MentionOutcome.IGNORED, None)
        return IntakeResult(IntakeStatus.IGNORED, message=where.message)
    if isinstance(where, OpenUnder):
        muted = tx.incidents.muted_for(mention.channel, mention.author_key, now)
        if muted is not None and silences(muted, library.by_digest(muted.playbook_digest), mention, where.book, now):
            until = str(muted.facts[MUTED_UNTIL])
            _note_on_closed(tx, muted, mention, now, MutedCommand(mention.channel, mention.external_id, until))
            record(MentionOutcome.MUTED, muted.id)
            message = (
                f"its author is muted until {datetime.fromisoformat(until):%Y-%m-%d %H:%M} UTC by {muted.id} "
                f"({muted.state}): recorded there; no incident opened and nobody told"
            )
            return IntakeResult(IntakeStatus.MUTED, muted.id, muted.playbook, message=message)
        # One event, many witnesses: a mention of an open group joins its incident rather than opening another.
        where = group_join(tx, library, where.book, mention) or where
    if isinstance(where, JoinInto):
        candidate, book = where.incident, where.book
        via = None if where.via is None else where.via.id
        outcome = step(candidate, JoinMention(mention, via), now, book)
        if isinstance(outcome, Stepped) and outcome.incident is not candidate:
            outcome = note_missing_crises(library, outcome, now)
            join = JoinCommand(raw, via)
            apply_step(tx, library, outcome, previous=candidate, command=join, actor=None, now=now, changes=changes)
            open_crises(tx, library, outcome, mention, raw, now=now, changes=changes)
        record(MentionOutcome.JOINED, candidate.id)
        if where.via is None:
            grouped = candidate.group is not None and not joins(candidate, mention, book)
            said = f"grouped with the mentions of {candidate.group!r}" if grouped else None
            return IntakeResult(IntakeStatus.JOINED, candidate.id, book.playbook.id, message=said)
        _note_on_closed(
            tx, where.via, mention, now, PassedOnCommand(mention.channel, mention.external_id, candidate.id)
        )
        message = f"it belongs to {where.via.id}, which was merged into {candidate.id}"
        return IntakeResult(IntakeStatus.JOINED, candidate.id, book.playbook.id, message=message)
    chosen, earlier = where.book, where.follows
    incident_id = tx.incidents.new_id()
    follows = None if earlier is None else (earlier.id, earlier.playbook)
    opened = open_incident(incident_id, mention, chosen, now, follows=follows)
    command = OpenCommand(incident_id, raw, follows)
    apply_step(tx, library, opened, previous=None, command=command, actor=None, now=now, changes=changes)
    record(MentionOutcome.OPENED, incident_id)
    if earlier is None:
        return IntakeResult(IntakeStatus.OPENED, incident_id, chosen.playbook.id)
    # The older incident's log records the link too, so its history says so and a rebuild finds it.
    linking = LinkIncident(incident_id, chosen.playbook.id)
    linked = step(earlier, linking, now, library.by_digest(earlier.playbook_digest))
    if isinstance(linked, Stepped) and linked.effects:
        apply_step(tx, library, linked, previous=earlier, command=linking, actor=None, now=now, changes=changes)
    message = (
        f"a follow-up from the author of {earlier.id}: it matches {chosen.playbook.id}, a higher-priority "
        f"playbook than {earlier.playbook}, so it opened an incident of its own, linked to {earlier.id}"
    )
    return IntakeResult(IntakeStatus.OPENED, incident_id, chosen.playbook.id, message=message)
