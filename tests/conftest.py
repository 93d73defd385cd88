"""Unit tests run in a known mode: quick mode (set by `make test` for the chapters'
nbval run) is cleared here; tests that need it set it themselves."""

import pytest


@pytest.fixture(autouse=True)
def _full_mode_unless_asked(monkeypatch):
    monkeypatch.delenv("CNNBOOK_QUICK", raising=False)
