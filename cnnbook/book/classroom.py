"""For teachers: the student edition of the book, and grading a student's notebook.

``student_edition`` copies the chapters with the ``{solution}`` blocks taken out of
the text and the outputs of the exercise cells cleared, so students get the executed
book without the answers, plus what Jupyter Book needs to make a website of it.

Grading the notebooks that come back is ``cnnbook.book.grading``'s work.

    python -m cnnbook student _build/student
    python -m cnnbook grade submissions/*.ipynb
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEACHERS_ONLY = {"90_teachers_guide"}   # chapters left out of the student edition (it shows the full edition's links)
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


def student_config(config: dict, repository: str | None = None) -> dict:
    """The student edition's Jupyter Book configuration: its own title, and no button that
    leads to the full edition. Launch buttons (Binder, Colab) and the repository button
    point to ``repository`` (where the teacher publishes the student edition), or are off."""
    config = dict(config, title=f"{config.get('title', 'The book')} (student edition)")
    html = dict(config.get("html") or {})
    if repository:
        config["repository"] = {"url": repository, "branch": "main"}
    else:
        for setting in ("repository", "launch_buttons"):
            config.pop(setting, None)
        for button in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
            html[button] = False
    config["html"] = html
    return config


def student_edition(target: str | os.PathLike, source: str | os.PathLike = ROOT, force: bool = False,
                    repository: str | None = None) -> Path:
    """Write the student edition of the book in ``source`` to ``target``: its chapters
    (and their other files), the book's configuration for it (``student_config``) and the
    tested package versions (constraints.txt), ready for ``jupyter-book build``; without the
    chapters in ``TEACHERS_ONLY``. A folder
    that is not empty is written into only with ``force``."""
    source, target = Path(source), Path(target)
    if target.resolve() == source.resolve():
        raise ValueError("the student edition needs a folder of its own, not the book's")
    if target.exists() and (not target.is_dir() or any(target.iterdir())) and not force:
        raise ValueError(f"{target} is not an empty folder: choose a new one, or pass --force to write into it "
                         "(its chapters/, _config.yml and _toc.yml are then replaced)")
    shutil.rmtree(target / "chapters", ignore_errors=True)
    shutil.copytree(source / "chapters", target / "chapters",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.ipynb"))
    for path in sorted((source / "chapters").glob("*.ipynb")):
        if path.stem not in TEACHERS_ONLY:
            nbformat.write(student_notebook(nbformat.read(path, as_version=4)),
                           target / "chapters" / path.name)
    config = student_config(yaml.safe_load((source / "_config.yml").read_text()), repository)
    (target / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    toc = yaml.safe_load((source / "_toc.yml").read_text())
    for part in toc.get("parts", []):
        part["chapters"] = [c for c in part["chapters"] if Path(c["file"]).name not in TEACHERS_ONLY]
    toc["parts"] = [part for part in toc.get("parts", []) if part["chapters"]]
    (target / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    if (source / "constraints.txt").exists():
        shutil.copy2(source / "constraints.txt", target / "constraints.txt")
    if (source / "_vendor").is_dir():
        shutil.rmtree(target / "_vendor", ignore_errors=True)
        shutil.copytree(source / "_vendor", target / "_vendor")
    return target
