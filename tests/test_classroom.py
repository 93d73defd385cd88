"""The student edition and the grader, on the real chapters."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from cnnbook.__main__ import main
from cnnbook.book import classroom, grading

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
    classroom.student_edition(tmp_path / "edition")
    tmp_path = tmp_path / "edition"
    assert "(student edition)" in (tmp_path / "_config.yml").read_text()
    toc = (tmp_path / "_toc.yml").read_text()
    for teachers in classroom.TEACHERS_ONLY:
        assert not (tmp_path / "chapters" / f"{teachers}.ipynb").exists() and teachers not in toc
    for original_path in sorted((ROOT / "chapters").glob("*.ipynb")):
        if original_path.stem in classroom.TEACHERS_ONLY:
            continue
        assert f"chapters/{original_path.stem}" in toc
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


def submission(tmp_path: Path, answers: dict[str, str], student: str = "student") -> Path:
    """The student edition of chapter 1 with ``answers`` (placeholder -> replacement) filled in."""
    notebook = classroom.student_notebook(nbformat.read(CHAPTER, as_version=4))
    for placeholder, answer in answers.items():
        cells = [c for c in notebook.cells if c.cell_type == "code" and placeholder in c.source]
        assert len(cells) == 1, f"the chapter no longer has the line {placeholder!r}"
        cells[0].source = cells[0].source.replace(placeholder, answer)
    path = tmp_path / f"01_convolutions-{student}.ipynb"
    nbformat.write(notebook, path)
    return path


def test_grade_the_real_chapter(tmp_path, capsys):
    """A right and a wrong submission made from chapter 1's student edition, graded together."""
    one_right = {k: v for k, v in RIGHT_ANSWERS.items() if "formula" in k}
    crash = {"answer = 0   # replace with your count": "answer = ten_filters * 76"}
    right, wrong = submission(tmp_path, RIGHT_ANSWERS, "alice"), submission(tmp_path,
                                                                            one_right | crash, "bob")
    assert main(["grade", str(right), str(wrong), "--out", str(tmp_path / "grades")]) == 0
    report = capsys.readouterr().out
    assert report.count("[correct] ch1.") == 7 and "score: 6/6" in report, report
    assert report.count("score: 1/6") == 1
    rows = [row for row in csv.DictReader(open(tmp_path / "grades" / "gradebook.csv")) if row["student"] == "bob"]
    verdicts = {row["exercise"]: row for row in rows}
    assert sorted(verdicts) == ["ch1-sharing", "ch1.conv-params", "ch1.dilated-rf", "ch1.fc-conv-grid",
                                "ch1.maxpool-grad", "ch1.output-size", "ch1.stacked-rf"]
    assert verdicts["ch1.output-size"]["verdict"] == "correct" and verdicts["ch1.output-size"]["points"] == "1"
    assert "raised NameError: name 'ten_filters' is not defined" in verdicts["ch1.conv-params"]["message"]
    assert "for n=2 a unit sees 5x5 pixels, you gave 3" in verdicts["ch1.stacked-rf"]["message"]
    assert verdicts["ch1-sharing"]["verdict"] == "to grade by hand"


def test_grade_needs_a_chapter(tmp_path):
    with pytest.raises(ValueError, match="chapter's number"):
        grading.chapter_of(tmp_path / "homework.ipynb")
    with pytest.raises(ValueError, match="no chapter 'ch99'"):
        grading.chapter_notebook("ch99")
    with pytest.raises(ValueError, match="no checkable exercises"):
        grading.chapter_exercises(nbformat.read(ROOT / "chapters" / "00_preface.ipynb", as_version=4))


def test_student_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    notes = tmp_path / "chapters" / "my-notes.md"
    notes.parent.mkdir()
    notes.write_text("keep me")
    assert main(["student", str(tmp_path)]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert notes.read_text() == "keep me" and not (tmp_path / "_config.yml").exists()


def test_the_student_website_has_no_way_to_the_full_edition():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config.get("repository") or config.get("launch_buttons"), "the full edition should have buttons to hide"
    student = classroom.student_config(config)
    assert "repository" not in student and "launch_buttons" not in student
    assert student["html"]["use_repository_button"] is False
    own = classroom.student_config(config, "https://example.org/course/student-edition")
    assert own["repository"]["url"] == "https://example.org/course/student-edition"
