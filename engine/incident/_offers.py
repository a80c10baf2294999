"""What an offer and a contact must be under a playbook's rules: a kind from its offers catalogue, offered by a role
that may, within that role's cap; and a contact with a real person behind it, of a kind the playbook accepts.

Each refusal says what is allowed and who may do more, so the person acting knows whom to ask.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.incident._record import Actor, RefusalReason, Refused
from engine.incident._rulebook import Rulebook
from engine.playbook import ContactKind, OfferKind, normalise

__all__ = ["check_contact", "check_offer", "contact_kind", "money", "offer_text"]

_OFFER_KEYS = frozenset({"kind", "amount", "note"})
_EMAIL = re.compile(r"^[^@\s]+@([a-z0-9-]+(\.[a-z0-9-]+)+)$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[0-9 ().-]+$")
#: The fewest digits a telephone number has: shorter is an extension or a typo, not a number to call.
_PHONE_DIGITS = 7
#: Mailboxes nobody reads: the opposite of a person behind the offer.
_NOBODY = re.compile(r"^(no-?reply|do-?not-?reply|donotreply|noreply|mailer-daemon|bounces?)([+.].*)?$", re.I)
_CONTACT_WORDS = {
    ContactKind.PHONE: "a phone number",
    ContactKind.EMAIL: "an email address a person reads",
    ContactKind.AGENT: "your own name as the roster gives it",
}


def money(amount: float, currency: str | None) -> str:
    """``30 GBP``, ``4.50 EUR``: an amount as people read it (pence shown only when there are some)."""
    text = str(int(amount)) if amount == int(amount) else f"{amount:.2f}"
    return f"{text} {currency}" if currency else text


def offer_text(offer: Any) -> str:
    """An offer as people read it: free text as written; from the catalogue ``refund of 30 GBP (the kettle)``, and
    several joined with ``and``."""
    if isinstance(offer, str):
        return offer
    items = offer if isinstance(offer, list) else [offer]
    texts = []
    for item in items:
        if not isinstance(item, Mapping):
            texts.append(str(item))
            continue
        amount = item.get("amount")
        text = str(item.get("kind", "")).replace("_", " ")
        text += "" if amount is None else f" of {money(amount, item.get('currency'))}"
        text += f" ({item['note']})" if item.get("note") else ""
        texts.append(text)
    return " and ".join(texts)


def _invalid(message: str, reason: RefusalReason = RefusalReason.INVALID_FIELD, field: str = "offer") -> Refused:
    return Refused(reason, message, field)


def _may_offer(book: Rulebook, actor: Actor) -> str:
    kinds = [name for name, kind in book.offer_kinds.items() if not actor.roles.isdisjoint(kind.by)]
    return f"you may offer {', '.join(kinds)}" if kinds else "your roles may offer none of them"


def _who_may_offer(kind: OfferKind, amount: float, currency: str | None) -> str:
    """Who may offer ``amount`` of ``kind``: the roles with a higher cap or none."""
    roles = [role for role in kind.by if kind.max_amount.get(role, amount) >= amount]
    if not roles:
        return f"no role may offer that much (the most is {money(max(kind.max_amount.values()), currency)})"
    return "ask " + " or ".join(
        f"{role} (up to {money(kind.max_amount[role], currency)})" if role in kind.max_amount else f"{role} (no cap)"
        for role in roles
    )


def _from_text(text: str, kinds: Mapping[str, OfferKind]) -> dict[str, Any]:
    """An offer written as words: a kind's name alone (``refund``), or a sentence that names exactly one kind (``a
    replacement, sent today``), which is kept as the offer's note. Anything else stays a kind to refuse by name."""
    text = text.strip()
    if text in kinds:
        return {"kind": text}
    words = f" {normalise(text)} "
    named = [name for name in kinds if f" {normalise(name.replace('_', ' '))} " in words]
    if len(named) == 1:
        return {"kind": named[0], "note": text}
    return {"kind": text}


def _one_offer(value: Any, book: Rulebook, actor: Actor) -> dict[str, Any] | Refused:
    kinds = book.offer_kinds
    if isinstance(value, str):
        value = _from_text(value, kinds)
    if not isinstance(value, Mapping) or not isinstance(value.get("kind"), str):
        return _invalid(f"offer names a kind from the offers catalogue ({', '.join(kinds)}): {{kind, amount, note}}")
    unknown = sorted(set(value) - _OFFER_KEYS)
    if unknown:
        return _invalid(f"an offer holds kind, amount and note, not {', '.join(map(repr, unknown))}")
    name = value["kind"]
    kind = kinds.get(name)
    if kind is None:
        return _invalid(f"{name!r} is not in the offers catalogue ({', '.join(kinds)}); {_may_offer(book, actor)}")
    if actor.roles.isdisjoint(kind.by):
        return _invalid(
            f"a {name} is offered by {', '.join(kind.by)}; {actor.person} has "
            f"{actor.roles_in_words} ({_may_offer(book, actor)})",
            RefusalReason.ROLE_NOT_ALLOWED,
        )
    accepted: dict[str, Any] = {"kind": name}
    currency = book.playbook.offers.currency if book.playbook.offers else None
    cap = kind.cap_for(actor.roles)
    amount = value.get("amount")
    if amount is None:
        if kind.max_amount:
            most = "" if cap is None else f", up to {money(cap, currency)} for you"
            return _invalid(f"a {name} names its amount in {currency}{most}", RefusalReason.MISSING_FIELD)
    elif isinstance(amount, bool) or not isinstance(amount, int | float) or not amount > 0:
        return _invalid(f"the {name}'s amount must be a number above zero, in {currency or 'the currency'}")
    else:
        if cap is not None and amount > cap:
            return _invalid(
                f"a {name} of {money(amount, currency)} is more than {actor.person} may offer (up to "
                f"{money(cap, currency)}); {_who_may_offer(kind, amount, currency)}",
                RefusalReason.OVER_CAP,
            )
        accepted["amount"] = amount
        if currency is not None:
            accepted["currency"] = currency  # kept with the amount, so the facts read alone say how much
    note = value.get("note")
    if note is not None:
        if not isinstance(note, str) or not note.strip():
            return _invalid(f"the {name}'s note must say something, or be left out")
        accepted["note"] = note.strip()
    return accepted


def check_offer(value: Any, book: Rulebook, actor: Actor) -> Any:
    """One offer, or a list of them, from the catalogue: each ``{kind, amount?, note?}`` (a kind alone may be written
    as its name), as accepted; or the first rule one breaks."""
    items = value if isinstance(value, list) else [value]
    if not items:
        return _invalid(f"offer names at least one kind from the offers catalogue ({', '.join(book.offer_kinds)})")
    accepted = []
    for item in items:
        checked = _one_offer(item, book, actor)
        if isinstance(checked, Refused):
            return checked
        accepted.append(checked)
    return accepted if isinstance(value, list) else accepted[0]


def contact_kind(text: str) -> ContactKind:
    """What a contact looks like: an email address, a phone number, or otherwise a person's name."""
    if _EMAIL.match(text):
        return ContactKind.EMAIL
    if _PHONE.match(text) and sum(character.isdigit() for character in text) >= _PHONE_DIGITS:
        return ContactKind.PHONE
    return ContactKind.AGENT


def _names(actor: Actor, text: str) -> bool:
    """Whether ``text`` names the actor: their roster id, their name there, or its first word, as whole words."""
    words = f" {normalise(text)} "
    names = {actor.person, *([actor.name, actor.name.split()[0]] if actor.name and actor.name.split() else [])}
    return any(f" {normalise(name)} " in words for name in names if name.strip())


def _accepted(accept: tuple[ContactKind, ...]) -> str:
    """The kinds of contact a playbook accepts, in words (for the refusals only)."""
    words = [_CONTACT_WORDS[kind] for kind in accept]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def check_contact(value: Any, incident: object, book: Rulebook, actor: Actor) -> Any:
    """A contact with a real person behind it, of a kind the playbook's contact section accepts."""
    rule = book.playbook.contact
    if not isinstance(value, str) or not value.strip():
        return _invalid(f"contact must put a real person behind this: {_accepted(rule.accept)}", field="contact")
    text = value.strip()
    kind = contact_kind(text)
    if kind not in rule.accept:
        return _invalid(
            f"the contact {text!r} looks like {_CONTACT_WORDS[kind].split(' as ')[0]}, but this playbook asks for "
            f"{_accepted(rule.accept)}",
            field="contact",
        )
    if kind is ContactKind.EMAIL:
        mailbox, _, domain = text.lower().partition("@")
        if _NOBODY.match(mailbox):
            return _invalid(
                f"nobody reads {text}: give an address a person answers ({_accepted(rule.accept)})", field="contact"
            )
        if rule.email_domains and domain not in rule.email_domains:
            return _invalid(
                f"{text} is not at {' or '.join(rule.email_domains)}: give the team's own address", field="contact"
            )
    if kind is ContactKind.AGENT and not _names(actor, text):
        own = actor.name or actor.person
        return _invalid(
            f"the contact {text!r} does not name you: sign with your own name as the roster gives it ({own})",
            field="contact",
        )
    return text
