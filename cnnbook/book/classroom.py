"""For teachers: the student edition of the book, and grading a student's notebook.

``student_edition`` copies the chapters with the ``{solution}`` blocks taken out of
the text and the outputs of the exercise cells cleared, so students get the executed
book without the answers, plus what Jupyter Book needs to make a website of it.

``grade`` runs a student's notebook from top to bottom in a fresh kernel (quick mode,
so training cells take seconds) and collects what each ``check(...)`` call said: the
kernel writes every verdict to a file that the grader reads. A cell that raises does
not stop the run; the exercise whose cell it was is reported with the error. The
score counts the chapter's checkable exercises answered correctly.

    python -m cnnbook student _build/student
    python -m cnnbook grade submissions/*.ipynb
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..exercises import Feedback, exercises
from ..exercises._core import GRADE_LOG

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^(`{3,}|:{3,})\{solution\}")
_CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([\w.-]+)["']""")


def remove_solutions(markdown: str) -> str:
    """``markdown`` without its ``{solution}`` directives (backtick or colon fences)."""
    kept, closing = [], None
    for line in markdown.splitlines(keepends=True):
        if closing:
            if re.fullmatch(closing, line.rstrip()):
                closing = None
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = opening.group(1)
            closing = re.escape(fence[0]) + "{" + str(len(fence)) + ",}"
            continue
        kept.append(line)
    return "".join(kept).strip("\n")


def _is_exercise_cell(cell, in_exercises: bool) -> bool:
    return cell.cell_type == "code" and (in_exercises or bool(_CHECK_CALL.search(cell.source)))


def student_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` without solutions, and with the exercise cells' outputs
    cleared: the code cells of the "Exercises" section and any cell calling ``check``."""
    student = nbformat.from_dict(json.loads(json.dumps(notebook)))
    cells, in_exercises = [], False
    for cell in student.cells:
        if cell.cell_type == "markdown":
            headings = re.findall(r"^#{1,2} (.+)$", cell.source, re.M)
            if headings:
                in_exercises = headings[-1].strip().lower() == "exercises"
            cell.source = remove_solutions(cell.source)
            if not cell.source.strip():
                continue
        elif _is_exercise_cell(cell, in_exercises):
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    student.cells = cells
    return student


def student_edition(target: str | os.PathLike, source: str | os.PathLike = ROOT) -> Path:
    """Write the student edition of the book in ``source`` to ``target``: its chapters
    (and their other files) and the book's configuration, ready for ``jupyter-book build``."""
    source, target = Path(source), Path(target)
    if target.resolve() == source.resolve():
        raise ValueError("the student edition needs a folder of its own, not the book's")
    shutil.rmtree(target / "chapters", ignore_errors=True)
    shutil.copytree(source / "chapters", target / "chapters",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.ipynb"))
    for path in sorted((source / "chapters").glob("*.ipynb")):
        nbformat.write(student_notebook(nbformat.read(path, as_version=4)), target / "chapters" / path.name)
    config = (source / "_config.yml").read_text()
    title = re.search(r'^title: "(.*)"$', config, re.M)
    if title:
        config = config.replace(title.group(0), f'title: "{title.group(1)} (student edition)"')
    (target / "_config.yml").write_text(config)
    shutil.copy2(source / "_toc.yml", target / "_toc.yml")
    if (source / "_vendor").is_dir():
        shutil.rmtree(target / "_vendor", ignore_errors=True)
        shutil.copytree(source / "_vendor", target / "_vendor")
    return target


def chapter_of(notebook: str | os.PathLike) -> str:
    """The chapter prefix of the exercises, from the file name: ``02_lenet-alice.ipynb`` -> ``ch2``."""
    number = re.match(r"\d+", Path(notebook).name)
    if not number:
        raise ValueError(f"cannot tell the chapter of {Path(notebook).name}: its name should start with the "
                         "chapter's number (as 02_lenet.ipynb does), or pass the chapter (e.g. --chapter ch2)")
    return f"ch{int(number.group())}"


@dataclass
class Grade:
    """The verdict on each checkable exercise of one notebook's chapter."""

    notebook: str
    results: list[Feedback]

    @property
    def score(self) -> int:
        return sum(result.correct for result in self.results)

    def report(self) -> str:
        lines = [f"{self.notebook}:"] + [f"  {result}" for result in self.results]
        return "\n".join(lines + [f"  score: {self.score}/{len(self.results)}"])


@contextlib.contextmanager
def _environment(**values: str):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _cell_errors(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """For each exercise whose ``check`` cell raised: the error, as 'Name: message'."""
    errors = {}
    for cell in notebook.cells:
        error = next((o for o in cell.get("outputs", []) if o.output_type == "error"), None)
        if cell.cell_type == "code" and error:
            for exercise in _CHECK_CALL.findall(cell.source):
                errors[exercise] = f"{error.ename}: {error.evalue}"
    return errors


def grade(notebook: str | os.PathLike, chapter: str | None = None, timeout: int = 600) -> Grade:
    """Run ``notebook`` in a fresh kernel in quick mode and grade its chapter's exercises."""
    from nbclient import NotebookClient

    path = Path(notebook)
    chapter = chapter or chapter_of(path)
    wanted = [e for e in exercises() if e.startswith(chapter + ".")]
    if not wanted:
        raise ValueError(f"chapter {chapter!r} has no checkable exercises; chapters with some: "
                         + ", ".join(sorted({e.split(".")[0] for e in exercises()})))
    submission = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "checks.jsonl"
        log.touch()
        client = NotebookClient(submission, timeout=timeout, allow_errors=True, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        with _environment(CNNBOOK_QUICK="1", **{GRADE_LOG: str(log)}):
            client.execute(stderr=subprocess.DEVNULL)   # the kernel's own start-up warnings
        verdicts = {}
        for line in log.read_text().splitlines():   # the last check of an exercise counts
            record = json.loads(line)
            verdicts[record["exercise"]] = Feedback(**record)
    errors, called = _cell_errors(submission), set(_CHECK_CALL.findall(
        "\n".join(c.source for c in submission.cells if c.cell_type == "code")))
    results = []
    for exercise in wanted:
        if exercise in verdicts:
            results.append(verdicts[exercise])
        elif exercise in errors:
            results.append(Feedback(exercise, False, f"the exercise's cell raised {errors[exercise]}"))
        elif exercise in called:
            results.append(Feedback(exercise, False, "its check(...) call did not run"))
        else:
            results.append(Feedback(exercise, False, f'no check("{exercise}", ...) call in the notebook'))
    return Grade(str(path), results)
