"""Groups: mentions about one event gathered into one incident, as Alertmanager groups alerts (``group_by``).

During an outage hundreds of people say the same thing: one problem with hundreds of witnesses, not hundreds of
incidents. A playbook's ``group`` section says which mentions are one event: every mention the playbook applies to
(narrowed by channel, with ``per_channel``, and by topic, with ``topics``). A mention that would open an incident
joins instead the open incident of its group whose latest mention is recent enough (``within``), as a mention of
its own, with its author.

A group's key is worked out from the mention and the playbook alone, so it is the same in every run and every
replay: ``login-outage``, ``login-outage on twitter``, ``login-outage about login``.
"""

from __future__ import annotations

from datetime import datetime

from engine.incident._mention import Mention
from engine.incident._record import Incident
from engine.playbook import Grouping, PhraseSet

__all__ = ["Grouper", "crisis_key"]


class Grouper:
    """A playbook's ``group`` section compiled: each topic's phrases, in order."""

    __slots__ = ("_grouping", "_playbook", "_topics")

    def __init__(self, playbook: str, grouping: Grouping) -> None:
        self._playbook = playbook
        self._grouping = grouping
        self._topics = tuple((topic, PhraseSet(phrases)) for topic, phrases in grouping.topics.items())

    def key(self, mention: Mention) -> str:
        """The key of the mention's group: the playbook's, with its channel and the first topic its text names."""
        key = self._playbook
        if self._grouping.per_channel:
            key += f" on {mention.channel}"
        for topic, phrases in self._topics:
            if phrases.find(mention.text) is not None:
                return f"{key} about {topic}"
        return key

    def since(self, mention: Mention) -> datetime:
        """How recent a group's latest mention must be for this one to join its incident."""
        return mention.posted_at - self._grouping.within

    def takes(self, incident: Incident, mention: Mention) -> bool:
        """Whether the open incident ``incident`` of the mention's group takes it: its latest mention is within the
        window of this one (a mention posted earlier than that latest one joins too)."""
        return incident.group == self.key(mention) and incident.last_mention_at >= self.since(mention)


def crisis_key(playbook: str, surge: str) -> str:
    """The group of the crisis incidents a surge rule of ``playbook`` opens: while one is open, a surge of another
    of the playbook's groups links to it rather than opening a second crisis."""
    return f"crisis from {playbook} ({surge})"
