"""Reply templates: they keep the house rules, use only the placeholders the runtime fills in, and balance their
braces."""

from __future__ import annotations

import string
from collections.abc import Iterator

from engine.playbook._checks._finding import Context, Finding
from engine.playbook._phrase import PhraseSet
from engine.playbook._problem import Path, dotted, rules
from engine.playbook._shape import suggest

__all__ = ["PLACEHOLDERS", "check_templates"]

#: What a reply template may fill in. The runtime provides each of these when it renders a reply.
PLACEHOLDERS = ("author", "channel", "incident_id", "severity", "playbook", "offer", "contact_route")


def check_templates(ctx: Context) -> Iterator[Finding]:
    forbidden = PhraseSet(ctx.playbook.house_rules.never_say)
    for trigger, texts in ctx.playbook.responses.items():
        for index, text in enumerate(texts):
            path: Path = (
                ("responses", trigger)
                if isinstance(ctx.data["responses"][trigger], str)
                else ("responses", trigger, index)
            )
            where = dotted(path)
            phrase = forbidden.find(text)
            if phrase is not None:
                yield Finding(
                    rules.HOUSE_RULE_BROKEN,
                    path,
                    f"{where} says {phrase!r}, which house_rules.never_say forbids; rephrase the reply",
                )
            try:
                fields = list(string.Formatter().parse(text))
            except ValueError:
                yield Finding(
                    rules.MALFORMED_TEMPLATE,
                    path,
                    f"{where} has a '{{' or '}}' without its pair; placeholders look like {{author}}",
                )
                continue
            for _, field, spec, conversion in fields:
                if field is None:
                    continue
                if spec or conversion or field not in PLACEHOLDERS:
                    shown = field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
                    yield Finding(
                        rules.UNKNOWN_PLACEHOLDER,
                        path,
                        f"{where} uses the placeholder {{{shown}}}, which calmly cannot fill"
                        f"{suggest(field, PLACEHOLDERS)} (placeholders: "
                        f"{', '.join('{' + name + '}' for name in PLACEHOLDERS)})",
                    )
