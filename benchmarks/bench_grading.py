"""How long grading a class takes: N generated chapter-1 submissions, right, wrong and broken.

Each submission is chapter 1's student edition with answers filled in: right ones, wrong
ones (off-by-one formulas, a crashing cell), and broken ones (an endless loop, a process
that exits, malformed JSON). They are graded as `python -m cnnbook grade` does, one
sandbox per worker, and the script prints the wall-clock time, the time per notebook
and what it would be for 200.

    .venv/bin/python benchmarks/bench_grading.py --submissions 200 --workers 2
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import nbformat

from cnnbook.book import classroom, grading

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDERS = {
    "    return None   # replace with your formula": ("    return (w - f + 2 * p) // s + 1",
                                                      "    return (w - f) // s + 1"),
    "answer = 0   # replace with your count": ("answer = 10 * (5 * 5 * 3 + 1)", "answer = 10 * 5 * 5 * 3"),
    "    return 3   # right only for n = 1": ("    return 2 * n + 1", "    return 2 * n"),
    "    return 2 * n + 1   # this is the undilated answer: replace it": ("    return 3 ** n",
                                                                          "    return 3 * n"),
    "    return (size - 224) // 32   # almost: replace it": ("    return size // 32 - 6",
                                                             "    return size // 32"),
    "gradient = [[0, 0, 0, 0],\n            [0, 0, 0, 0],\n            [0, 0, 0, 0],\n            [0, 0, 0, 0]]":
        ("gradient = [[0, 1, 0, 0], [0, 1, 4, 0], [0, 0, 1, 1], [1, 0, 0, 0]]",
         "gradient = [[0, 1, 0, 0]] * 4"),
}
PATTERN = ["right", "wrong"] * 6 + ["right", "right", "loop", "exit", "malformed", "malformed",
                                    "crash", "crash"]
BROKEN = {"loop": "while True:\n    pass", "exit": "import os\nos._exit(1)",
          "crash": "answer = ten_filters * 76"}


def submissions(folder: Path, count: int) -> Counter:
    """Write ``count`` submissions into ``folder``; in every 20: 8 right, 6 wrong, 6 broken."""
    chapter = classroom.student_notebook(nbformat.read(ROOT / "chapters" / "01_convolutions.ipynb", as_version=4))
    kinds = Counter()
    for index in range(count):
        kind = PATTERN[index % len(PATTERN)]
        path = folder / f"01_convolutions-student{index:03d}.ipynb"
        kinds[kind] += 1
        if kind == "malformed":
            path.write_text('{"cells": [{"cell_type": "code", "source": "')
            continue
        notebook = nbformat.from_dict(chapter)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        for placeholder, (right, wrong) in PLACEHOLDERS.items():
            cell = next(c for c in code if placeholder in c.source)
            cell.source = cell.source.replace(placeholder,
                                              right if kind in ("right", "loop", "exit") else wrong)
        if kind in BROKEN:
            cell = next(c for c in code if "answer = " in c.source)
            cell.source = BROKEN[kind] + "\n" + cell.source
        nbformat.write(notebook, path)
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--cell-timeout", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        kinds = submissions(Path(scratch), args.submissions)
        print(f"{args.submissions} chapter-1 submissions ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), "
              f"{args.workers} workers, {os.cpu_count()} cores, cell limit {args.cell_timeout:g} s")
        started = time.monotonic()
        grades = grading.grade_all(sorted(Path(scratch).glob("*.ipynb")),
                                   limits=grading.Limits(args.cell_timeout), workers=args.workers,
                                   progress=lambda done, total, grade: print(
                                       f"\r{done}/{total} graded, {time.monotonic() - started:.0f} s",
                                       end="", flush=True))
        seconds = time.monotonic() - started
    print()
    by_score = Counter(f"{g.score:g}/{g.possible:g}" + (" (not graded in full)" if g.problem else "") for g in grades)
    print("scores:", ", ".join(f"{score}: {n}" for score, n in sorted(by_score.items())))
    slowest = sorted(grades, key=lambda g: g.seconds)
    print(f"per notebook: median {slowest[len(slowest) // 2].seconds:.1f} s, slowest {slowest[-1].seconds:.1f} s "
          f"({Path(slowest[-1].notebook).name})")
    print(f"total: {seconds:.0f} s for {len(grades)} notebooks = {seconds / len(grades):.2f} s per notebook; "
          f"200 would take {seconds / len(grades) * 200 / 60:.1f} min (target: at most 20 min)")


if __name__ == "__main__":
    main()
