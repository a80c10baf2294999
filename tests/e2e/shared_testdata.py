"""Test data kept outside the repository (``../shared/testdata``), found or explained.

A plain clone has no ``shared/`` beside it, so a test that needs such data skips and says how to run it: from a
checkout beside ``shared/``, or with ``CALMLY_SHARED_TESTDATA`` naming the folder (``.ci/run`` sets it when the folder
is beside the checkout).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["ENV", "shared_testdata"]

ENV = "CALMLY_SHARED_TESTDATA"
_ROOT = Path(__file__).resolve().parents[2]


def shared_testdata(relative: str) -> Path:
    """The file at ``relative`` under the shared test data; skips, saying how to provide it, when it is not there."""
    configured = os.environ.get(ENV)
    folder = Path(configured) if configured else _ROOT.parent / "shared" / "testdata"
    path = folder / relative
    if path.is_file():
        return path
    if configured:
        pytest.skip(f"needs {relative} from the shared test data, but {path} is not there ({ENV} is {configured})")
    pytest.skip(
        f"needs {relative} from the shared test data: run from a checkout beside shared/ "
        f"(so that ../shared/testdata exists), or set {ENV} to that folder"
    )
