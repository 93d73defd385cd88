"""Claims: checked in full mode, marked unchecked in quick mode, and none failed in the committed book."""

import json
from pathlib import Path

import pytest

from cnnbook.claims import HOLDS, UNCHECKED, ClaimFailed, claim

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "chapters").glob("*.ipynb"))


def test_a_claim_that_holds_is_printed_as_holding(capsys):
    claim("two is more than one", 2 > 1, quick=False)
    assert capsys.readouterr().out == f"{HOLDS} two is more than one\n"


def test_a_contradicted_claim_stops_a_full_run():
    with pytest.raises(ClaimFailed, match="one is more than two"):
        claim("one is more than two", 1 > 2, quick=False)


def test_quick_mode_checks_nothing(capsys):
    claim("one is more than two", 1 > 2, quick=True)
    assert capsys.readouterr().out == f"{UNCHECKED} one is more than two\n"


def test_quick_mode_follows_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("CNNBOOK_QUICK", "1")
    claim("anything", False)
    assert capsys.readouterr().out.startswith(UNCHECKED)


def test_a_claim_needs_its_sentence():
    with pytest.raises(TypeError, match="sentence"):
        claim("  ", True, quick=False)


def outputs(notebook: Path):
    for cell in json.loads(notebook.read_text())["cells"]:
        yield from cell.get("outputs", [])


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_no_committed_chapter_carries_a_failed_or_unchecked_claim(notebook):
    for output in outputs(notebook):
        assert output.get("ename") != "ClaimFailed", f"{notebook.name}: {output.get('evalue')}"
        text = "".join(output.get("text", ""))
        assert UNCHECKED not in text, f"{notebook.name} was committed with quick-mode claims: {text[:200]}"


def test_the_book_checks_its_claims():
    checked = sum("".join(o.get("text", "")).count(HOLDS) for nb in CHAPTERS for o in outputs(nb))
    assert checked >= 5, f"only {checked} claims are checked in the committed chapters"
