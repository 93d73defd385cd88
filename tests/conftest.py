"""Unit tests run in a known mode: quick mode (set by `make test` for the chapters'
nbval run) is cleared here; tests that need it set it themselves. The website,
built once per session from a copy of the repository, is shared by the book and
browser tests; under pytest-xdist (`make test` runs ``-n auto --dist loadfile``, so a
chapter's cells run in order in one kernel) the first worker that needs it builds it,
under a file lock, and the others take that build."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from cnnbook.book import website

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _full_mode_unless_asked(monkeypatch):
    monkeypatch.delenv("CNNBOOK_QUICK", raising=False)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The book's website built from a copy of the repository: its ``_build/html`` folder."""
    shared = tmp_path_factory.getbasetemp().parent   # the same for every xdist worker of this run
    source = shared / "site" / "book"
    with FileLock(shared / "site.lock"):
        if not (source / "_build" / "html" / "index.html").exists():
            website.vendor()
            shutil.rmtree(source, ignore_errors=True)
            shutil.copytree(ROOT, source,
                            ignore=shutil.ignore_patterns(".venv", "_build", ".git", ".pytest_cache", "*.pt"))
            jupyter_book = Path(sys.executable).with_name("jupyter-book")
            result = subprocess.run([str(jupyter_book), "build", "--warningiserror", "--keep-going",
                                     str(source)], capture_output=True, text=True, timeout=900)
            assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return source / "_build" / "html"
