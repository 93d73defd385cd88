"""The student edition and the grader, on the real chapters."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from cnnbook.book import classroom
from cnnbook.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "01_convolutions.ipynb"
CHECK = re.compile(r"""\bcheck\(\s*["']""")
SOLUTION, EXERCISE = (re.compile(r"^(`{3,}|:{3,})\{%s\}" % name, re.M) for name in ("solution", "exercise"))

# The chapter's placeholder lines and a student's right answers for them.
RIGHT_ANSWERS = {
    "    return None   # replace with your formula": "    return (w - f + 2 * p) // s + 1",
    "answer = 0   # replace with your count": "answer = 10 * (5 * 5 * 3 + 1)",
    "    return 3   # right only for n = 1": "    return 2 * n + 1",
    "    return 2 * n + 1   # this is the undilated answer: replace it": "    return 3 ** n",
    "    return (size - 224) // 32   # almost: replace it": "    return size // 32 - 6",
    "gradient = [[0, 0, 0, 0],\n            [0, 0, 0, 0],\n            [0, 0, 0, 0],\n            [0, 0, 0, 0]]":
        "gradient = [[0, 1, 0, 0],\n            [0, 1, 4, 0],\n            [0, 0, 1, 1],\n            [1, 0, 0, 0]]",
}


def test_remove_solutions_with_either_fence_and_nested_code():
    text = ("Intro.\n\n````{solution} ex-1\n:class: dropdown\n\n```python\nx = 1\n```\n````\n\nBetween.\n"
            ":::{solution} ex-2\nHidden.\n:::\nEnd.")
    assert classroom.remove_solutions(text) == "Intro.\n\n\nBetween.\nEnd."


def test_student_edition_of_the_book(tmp_path):
    classroom.student_edition(tmp_path)
    assert "(student edition)" in (tmp_path / "_config.yml").read_text()
    for original_path in sorted((ROOT / "chapters").glob("*.ipynb")):
        original = nbformat.read(original_path, as_version=4)
        student = nbformat.read(tmp_path / "chapters" / original_path.name, as_version=4)
        text = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
        assert not SOLUTION.search(text)
        assert len(EXERCISE.findall(text)) == len(EXERCISE.findall("\n".join(c.source for c in original.cells)))
        originals = {c.source: c for c in original.cells if c.cell_type == "code"}
        before_exercises = True
        for cell in student.cells:
            if cell.cell_type == "markdown" and re.search(r"^## Exercises\s*$", cell.source, re.M):
                before_exercises = False
            elif cell.cell_type == "code" and CHECK.search(cell.source):
                assert cell.outputs == [] and cell.execution_count is None
            elif cell.cell_type == "code" and before_exercises:
                assert cell.outputs == originals[cell.source].outputs
    solutions = SOLUTION.findall("\n".join(c.source for c in nbformat.read(CHAPTER, as_version=4).cells))
    assert len(solutions) >= 3, "the chapter used here should have solutions to remove"


def submission(tmp_path: Path, answers: dict[str, str]) -> Path:
    """The student edition of chapter 1 with ``answers`` (placeholder -> replacement) filled in."""
    notebook = classroom.student_notebook(nbformat.read(CHAPTER, as_version=4))
    for placeholder, answer in answers.items():
        cells = [c for c in notebook.cells if c.cell_type == "code" and placeholder in c.source]
        assert len(cells) == 1, f"the chapter no longer has the line {placeholder!r}"
        cells[0].source = cells[0].source.replace(placeholder, answer)
    path = tmp_path / "01_convolutions-student.ipynb"
    nbformat.write(notebook, path)
    return path


def test_grade_a_right_submission(tmp_path, capsys):
    path = submission(tmp_path, RIGHT_ANSWERS)
    assert main(["grade", str(path)]) == 0
    report = capsys.readouterr().out
    assert report.count("[correct] ch1.") == 6 and report.strip().endswith("score: 6/6"), report


def test_grade_a_wrong_submission_with_a_crashing_cell(tmp_path):
    one_right = {k: v for k, v in RIGHT_ANSWERS.items() if "formula" in k}
    crash = {"answer = 0   # replace with your count": "answer = ten_filters * 76"}
    grade = classroom.grade(submission(tmp_path, one_right | crash))
    verdicts = {result.exercise: result for result in grade.results}
    assert sorted(verdicts) == ["ch1.conv-params", "ch1.dilated-rf", "ch1.fc-conv-grid", "ch1.maxpool-grad",
                                "ch1.output-size", "ch1.stacked-rf"]
    assert verdicts["ch1.output-size"].correct and grade.score == 1
    assert "raised NameError: name 'ten_filters' is not defined" in verdicts["ch1.conv-params"].message
    assert "for n=2 a unit sees 5x5 pixels, you gave 3" in verdicts["ch1.stacked-rf"].message
    assert grade.report().endswith("score: 1/6")


def test_grade_needs_a_chapter(tmp_path):
    with pytest.raises(ValueError, match="chapter's number"):
        classroom.chapter_of(tmp_path / "homework.ipynb")
    with pytest.raises(ValueError, match="no checkable exercises"):
        classroom.grade(tmp_path / "99_nothing.ipynb")
