"""Approval and required templates: an approval names the playbook's own roles and sits on an action that posts a
public reply, and an action whose replies must come from the templates has templates to come from."""

from __future__ import annotations

from collections.abc import Iterator

from engine.playbook._checks._finding import Context, Finding, undefined, written_at
from engine.playbook._problem import rules

__all__ = ["check_approvals", "check_required_templates"]


def check_approvals(ctx: Context) -> Iterator[Finding]:
    roles = ctx.playbook.roles
    for index, transition in enumerate(ctx.playbook.transitions):
        if transition.approval is None:
            continue
        for position, role in enumerate(transition.approval.by):
            if role not in roles:
                path = ("transitions", index, "approval", "by", position)
                yield undefined(rules.UNDEFINED_APPROVER, "role", "the roles section", path, role, roles)
        if not transition.posts_reply:
            yield Finding(
                rules.APPROVAL_WITHOUT_REPLY,
                ("transitions", index, "approval"),
                f"transitions[{index}] ({transition.trigger}) asks for approval, but it posts no public reply to "
                "approve; add public_reply to its requires, or remove the approval",
                at_key=True,
            )


def check_required_templates(ctx: Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    for index, transition in enumerate(playbook.transitions):
        own = transition.responses_required
        if own is True and not transition.posts_reply:
            yield Finding(
                rules.TEMPLATES_REQUIRED_WITHOUT_REPLY,
                ("transitions", index, "responses_required"),
                f"transitions[{index}] ({transition.trigger}) says its replies must come from the templates, but it "
                "posts no public reply; remove responses_required, or add public_reply to its requires",
                at_key=True,
            )
            continue
        if not playbook.templates_required(transition) or playbook.responses.get(transition.trigger):
            continue
        if own is None:  # the playbook's own setting: place the problem there, once for each action
            path: tuple[str | int, ...] = ("responses_required",)
            why = "the playbook says every public reply must come from the templates (responses_required: true)"
        else:
            path = ("transitions", index, "responses_required")
            why = "its replies must come from the templates (responses_required: true)"
        if written_at(ctx.data, path) is None:  # pragma: no cover - a setting that is in force is written
            path = ("transitions", index)
        yield Finding(
            rules.TEMPLATES_REQUIRED_NONE_GIVEN,
            path,
            f"{why}, but the action {transition.trigger!r} has no templates: add responses.{transition.trigger}, "
            f"or set responses_required: false on transitions[{index}]",
            at_key=True,
        )
