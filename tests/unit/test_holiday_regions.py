"""The public-holiday table calmly validates against never claims more than the holidays package supports.

Run this file as a script to regenerate engine/playbook/_holiday_regions.py from the installed holidays package.
"""

from __future__ import annotations

import json
from pathlib import Path

import holidays

from engine.playbook import load
from engine.playbook._holiday_regions import REGIONS

TABLE = Path(__file__).resolve().parents[2] / "engine" / "playbook" / "_holiday_regions.py"
COMPLAINT = (Path(__file__).resolve().parents[2] / "playbooks" / "customer-complaint.yaml").read_text("utf-8")


def test_every_country_and_region_in_the_table_is_supported_by_holidays() -> None:
    supported = holidays.list_supported_countries()
    unsupported = [
        f"{country}-{region}" if region else country
        for country, regions in REGIONS.items()
        for region in ("", *regions)
        if country not in supported or (region and region not in supported[country])
    ]
    assert not unsupported, f"regenerate the table with: python {Path(__file__).relative_to(Path.cwd())}"


def test_a_region_missing_from_the_table_is_looked_up_in_holidays_itself() -> None:
    country = next(code for code, regions in holidays.list_supported_countries().items() if len(code) == 2 and regions)
    region = holidays.list_supported_countries()[country][0]
    trimmed = dict(REGIONS)
    try:
        REGIONS[country] = ()
        result = load(COMPLAINT.replace("holidays: GB-ENG", f"holidays: {country}-{region}"), "x.yaml")
    finally:
        REGIONS.clear()
        REGIONS.update(trimmed)
    assert result.errors == ()


def test_an_unknown_region_is_reported_with_the_regions_that_exist() -> None:
    result = load(COMPLAINT.replace("holidays: GB-ENG", "holidays: GB-XYZ"), "x.yaml")
    assert [problem.code for problem in result.problems] == ["E307"]
    assert "ENG, NIR, SCT, WLS" in result.problems[0].message


def _write_table() -> None:  # pragma: no cover - a maintenance script
    supported = holidays.list_supported_countries()
    text = TABLE.read_text(encoding="utf-8")
    head = text[: text.index("GENERATED_WITH =")]
    rows = []
    for country in sorted(code for code in supported if len(code) == 2):
        regions = ", ".join(json.dumps(region, ensure_ascii=False) for region in supported[country])
        rows.append(f'    "{country}": ({regions}{"," if len(supported[country]) == 1 else ""}),')
    body = (
        f'GENERATED_WITH = "holidays {holidays.__version__}"\n\n'
        "#: Country code (ISO 3166-1 alpha-2) -> the region codes its public holidays are known for.\n"
        "# fmt: off\nREGIONS: dict[str, tuple[str, ...]] = {\n" + "\n".join(rows) + "\n}\n# fmt: on\n"
    )
    TABLE.write_text(head + body, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    _write_table()
