"""Reading the files people write (playbooks, rosters, configs, timelines): safely, with located problems."""

from __future__ import annotations

from engine.files._catalog import PLAYBOOK_SUFFIXES, discover, load_file, load_paths
from engine.files._reading import Unreadable, read_capped, read_document_file

__all__ = [
    "PLAYBOOK_SUFFIXES",
    "Unreadable",
    "discover",
    "load_file",
    "load_paths",
    "read_capped",
    "read_document_file",
]
