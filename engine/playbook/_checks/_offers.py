"""The offers catalogue: every role it names may make the offer and take an action that carries it, every cap has a
currency, and the built-in deliver action and the promises' clocks are there only when the catalogue is; and the
contact rules are for an action that asks for a contact."""

from __future__ import annotations

from collections.abc import Iterator

from engine.playbook._checks._finding import Context, Finding, undefined
from engine.playbook._model import DELIVER, PROMISE_CLOCK, Requirement
from engine.playbook._problem import rules

__all__ = ["check_contact", "check_offers"]


def check_offers(ctx: Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    offers = playbook.offers
    if offers is None:
        yield from _promise_clock_without_offers(ctx)
        return
    roles = playbook.roles
    offering = [(index, t) for index, t in enumerate(playbook.transitions) if Requirement.OFFER in t.requires]
    acting = {role for _, transition in offering for role in transition.by}
    stranded = [
        (index, transition)
        for index, transition in offering
        if not any(set(transition.by) & set(kind.by) for kind in offers.kinds.values())
    ]
    for name, kind in offers.kinds.items():
        base = ("offers", "kinds", name)
        for position, role in enumerate(kind.by):
            if role not in roles:
                yield undefined(rules.UNDEFINED_ROLE, "role", "the roles section", (*base, "by", position), role, roles)
            elif offering and not stranded and role not in acting:  # a stranded action's error says it already
                yield Finding(
                    rules.OFFER_ROLE_CANNOT_ACT,
                    (*base, "by", position),
                    f"{role} may offer a {name}, but takes no action that carries an offer "
                    f"({', '.join(t.trigger for _, t in offering)}); add {role} to that action's 'by', or remove it "
                    "here",
                )
        for role in kind.max_amount:
            if role not in kind.by:
                yield Finding(
                    rules.CAP_FOR_ROLE_NOT_OFFERING,
                    (*base, "max_amount", role),
                    f"offers.kinds.{name}.max_amount caps {role}, which may not offer a {name} "
                    f"(by: {', '.join(kind.by)}); add {role} to 'by', or remove its cap",
                    at_key=True,
                )
        if kind.max_amount:
            uncapped = [role for role in kind.by if role not in kind.max_amount]
            if uncapped:
                yield Finding(
                    rules.UNCAPPED_OFFER,
                    (*base, "max_amount"),
                    f"{', '.join(uncapped)} may offer a {name} of any amount, since max_amount gives no cap for "
                    f"{'it' if len(uncapped) == 1 else 'them'}; add one, if a cap is meant",
                    at_key=True,
                )
            if offers.currency is None:
                yield Finding(
                    rules.AMOUNT_WITHOUT_CURRENCY,
                    (*base, "max_amount"),
                    f"offers.kinds.{name}.max_amount caps amounts, but the catalogue names no currency; add "
                    "offers.currency, such as GBP",
                    at_key=True,
                )
    for index, transition in stranded:
        yield Finding(
            rules.NOTHING_TO_OFFER,
            ("transitions", index, "requires"),
            f"the action {transition.trigger!r} carries an offer, but no kind in the offers catalogue may be "
            f"offered by {', '.join(transition.by)}; add one of them to a kind's 'by'",
        )
    for index, transition in enumerate(playbook.transitions):
        if transition.trigger == DELIVER:
            yield Finding(
                rules.DELIVER_IS_BUILT_IN,
                ("transitions", index, "trigger"),
                f"{DELIVER!r} is the built-in action that records a promise kept, since the playbook has an offers "
                "catalogue; name this action otherwise",
            )


def _promise_clock_without_offers(ctx: Context) -> Iterator[Finding]:
    for index, step in enumerate(ctx.playbook.escalation):
        for position, clock in enumerate(step.clocks or ()):
            if clock == PROMISE_CLOCK:
                yield Finding(
                    rules.PROMISE_CLOCK_WITHOUT_OFFERS,
                    ("escalation", index, "clocks", position),
                    f"escalation[{index}].clocks names 'promise', but the playbook has no offers catalogue, so no "
                    "promise is ever made; add an offers section, or remove 'promise'",
                )


def check_contact(ctx: Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    if "contact" not in ctx.data:
        return
    if not any(Requirement.CONTACT in transition.requires for transition in playbook.transitions):
        yield Finding(
            rules.CONTACT_NOT_REQUIRED,
            ("contact",),
            "the contact section says which contacts are accepted, but no action requires a contact; add contact "
            "to the 'requires' of the action that makes the offer or the reply, or remove the section",
            at_key=True,
        )
