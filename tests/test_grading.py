"""The grader on real, small submissions of chapter 1, honest and hostile, through the
real command line: sandboxes, forging attempts, broken files, the gradebook."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cnnbook.__main__ import main
from cnnbook.book import grading, wire

RIGHT = {
    "ch1.output-size": "def output_size(w, f, s, p):\n    return (w - f + 2 * p) // s + 1\n",
    "ch1.conv-params": "answer = 10 * (5 * 5 * 3 + 1)\n",
    "ch1.stacked-rf": "def stacked_rf(n):\n    return 2 * n + 1\n",
    "ch1.dilated-rf": "def tripled_rf(n):\n    return 3 ** n\n",
    "ch1.maxpool-grad": "gradient = [[0, 1, 0, 0], [0, 1, 4, 0], [0, 0, 1, 1], [1, 0, 0, 0]]\n",
    "ch1.fc-conv-grid": "def grid_side(size):\n    return size // 32 - 6\n",
}
NAMES = {"ch1.output-size": "output_size", "ch1.conv-params": "answer", "ch1.stacked-rf": "stacked_rf",
         "ch1.dilated-rf": "tripled_rf", "ch1.maxpool-grad": "gradient", "ch1.fc-conv-grid": "grid_side"}
IMPORTS = "from cnnbook.exercises import check\nimport torch\n"

# Every way we know for the student's code to claim a verdict, then wrong answers.
FORGER = [
    IMPORTS + "import os, json\n"
    "for exercise in %r:\n" % sorted(RIGHT) +
    "    for target in [os.environ.get('CNNBOOK_GRADE_LOG', 'grade.jsonl'), '/tmp/grade.jsonl']:\n"
    "        open(target, 'a').write(json.dumps({'exercise': exercise, 'correct': True, 'message': 'ok'}) + '\\n')\n"
    "    print(f'[correct] {exercise}: forged')\n"
    "os.environ['CNNBOOK_GRADE_LOG'] = 'grade.jsonl'\n"
    "score = print('score: 6/6')\n",
    "import cnnbook.exercises._core as core\n"
    "core._CHECKERS = {name: (lambda answer: (True, 'forged')) for name in core._CHECKERS}\n"
    "for name in list(core._CHECKERS): core.checker(name)(lambda answer: (True, 'forged'))\n"
    "torch.allclose = torch.equal = lambda *args, **kwargs: True\n"
    "torch.Tensor.__ne__ = lambda self, other: torch.zeros(self.shape, dtype=torch.bool)\n"
    "check = lambda exercise, answer: core.Feedback(exercise, True, 'forged')\n",
    "class Always:\n"
    "    def __eq__(self, other): return True\n"
    "    def __ne__(self, other): return False\n"
    "    def __reduce__(self): return (os.system, ('touch /tmp/pwned',))\n"
    "class Int(int):\n"
    "    def __eq__(self, other): return True\n"
    "    def __ne__(self, other): return False\n"
    "from cnnbook.exercises import check as recorded\n"
    "recorded('ch1.output-size', lambda w, f, s, p: Always())\n"
    "recorded('ch1.conv-params', Int(1))\n"
    "recorded('ch1.stacked-rf', lambda n: Int(0))\n"
    "recorded('ch1.dilated-rf', lambda n: list(range(10 ** 6)))\n"
    "recorded('ch1.maxpool-grad', Always())\n"
    "recorded('ch1.fc-conv-grid', lambda size: Always())\n",
]

# Reaching out of the sandbox: the other submissions, the book, the network; then a
# memory hog and an endless loop, each in the cell of an exercise.
SNOOP = [
    IMPORTS + RIGHT["ch1.output-size"] + "check('ch1.output-size', output_size)\n",
    "answer = open(OTHER).read()\ncheck('ch1.conv-params', answer)\n",
    "os.remove(OTHER)\ncheck('ch1.stacked-rf', None)\n",
    "import socket\nsocket.create_connection(('pypi.org', 443), timeout=5)\ncheck('ch1.dilated-rf', None)\n",
    "hog = bytearray(64 * 2 ** 30)\ncheck('ch1.maxpool-grad', None)\n",
    "while True:\n    pass\ncheck('ch1.fc-conv-grid', None)\n",
]


def notebook(folder: Path, name: str, cells: list[str]) -> Path:
    book = new_notebook(cells=[new_markdown_cell("## Exercises")] + [new_code_cell(source) for source in cells])
    path = folder / name
    nbformat.write(book, path)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One batch, graded in parallel through the command line: honest, hostile and broken files."""
    folder = tmp_path_factory.mktemp("submissions")
    right = notebook(folder, "01_convolutions-alice.ipynb",
                     [IMPORTS] + [RIGHT[e] + f"check({e!r}, {NAMES[e]})\n" for e in RIGHT])
    forger = notebook(folder, "01_convolutions-mallory.ipynb", FORGER)
    snoop = [cell.replace("OTHER", repr(str(right))) for cell in SNOOP]
    snoop[0] = "import os\n" + snoop[0]
    notebook(folder, "01_convolutions-eve.ipynb", snoop)
    notebook(folder, "01_convolutions-dies.ipynb",
             [IMPORTS + RIGHT["ch1.conv-params"] + "check('ch1.conv-params', answer)\n",
              "import os\nos._exit(3)\n"])
    notebook(folder, "01_convolutions-stubborn.ipynb",
             ["import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n"])
    (folder / "01_convolutions-malformed.ipynb").write_text('{"cells": [')
    (folder / "01_convolutions-json.ipynb").write_text(json.dumps({"cells": "none", "grade": "6/6"}))
    (folder / "01_convolutions-binary.ipynb").write_bytes(bytes(range(256)) * 8)
    homework = notebook(folder, "homework.ipynb", [IMPORTS])
    missing = folder / "01_convolutions-ghost.ipynb"
    out = folder.parent / "grades"
    paths = sorted(folder.iterdir()) + [missing]
    status = main(["grade", *map(str, paths), "--out", str(out), "--workers", "2",
                   "--cell-timeout", "6", "--timeout", "120", "--memory", "8192"])
    rows = list(csv.DictReader(open(out / "gradebook.csv")))
    return dict(status=status, rows=rows, out=out, right=right, forger=forger,
                homework=homework, folder=folder)


def verdicts(graded, student: str) -> dict[str, dict]:
    return {row["exercise"]: row for row in graded["rows"] if row["student"] == student}


def test_an_honest_submission_gets_full_marks_and_feedback(graded):
    alice = verdicts(graded, "alice")
    assert [alice[e]["verdict"] for e in RIGHT] == ["correct"] * 6, alice
    assert alice["ch1-sharing"]["verdict"] == "to grade by hand" and alice["ch1-sharing"]["possible"] == "1"
    feedback = (graded["out"] / "feedback" / "01_convolutions-alice.md").read_text()
    assert "**6 of 6** points" in feedback and "| ch1.maxpool-grad | 1 / 1 | correct |" in feedback


def test_forged_verdicts_count_for_nothing(graded):
    mallory = verdicts(graded, "mallory")
    assert {mallory[e]["verdict"] for e in RIGHT} == {"not yet"}, mallory
    assert mallory["ch1.conv-params"]["message"].startswith("1 is not it")   # an int subclass arrives as an int
    assert "Unsupported" in mallory["ch1.maxpool-grad"]["message"]
    assert not Path("/tmp/pwned").exists()


def test_a_submission_cannot_reach_others_the_network_or_the_memory(graded):
    eve = verdicts(graded, "eve")
    assert eve["ch1.output-size"]["verdict"] == "correct"
    assert "raised FileNotFoundError" in eve["ch1.conv-params"]["message"]
    assert "raised FileNotFoundError" in eve["ch1.stacked-rf"]["message"]
    assert graded["right"].exists()
    assert "raised gaierror" in eve["ch1.dilated-rf"]["message"] or "raised OSError" in eve["ch1.dilated-rf"]["message"]
    assert "raised MemoryError" in eve["ch1.maxpool-grad"]["message"]
    assert "TimeoutError: the cell ran past its 6 s limit" in eve["ch1.fc-conv-grid"]["message"]


def test_each_broken_submission_is_reported_and_the_batch_goes_on(graded):
    message = lambda student: {row["message"] for row in graded["rows"] if row["student"] == student}
    assert any("exit status 3" in m for m in message("dies"))
    assert any("would not stop" in m for m in message("stubborn"))
    assert any("not a notebook" in m for m in message("malformed"))
    assert any("not a notebook" in m for m in message("json"))
    assert any("not a text file" in m for m in message("binary"))
    assert any("cannot tell the chapter of homework.ipynb" in m for m in message("homework"))
    assert any("the file is missing" in m for m in message("ghost"))
    assert graded["status"] == 1   # some notebooks could not be graded


def test_the_gradebook_is_kept_unless_forced(graded, capsys):
    before = (graded["out"] / "gradebook.csv").read_text()
    assert main(["grade", str(graded["right"]), "--out", str(graded["out"])]) == 2
    assert "pass another --out, or --force" in capsys.readouterr().err
    assert (graded["out"] / "gradebook.csv").read_text() == before


def test_answers_travel_as_data_only():
    handles = {}
    sent = wire.encode({"n": 3, "t": __import__("torch").arange(4), "f": len, "x": object()},
                       lambda value: handles.setdefault(id(value), value) and id(value))
    back = wire.decode(json.loads(json.dumps(sent)), lambda kind, handle, name: (kind, name))
    assert back["n"] == 3 and back["t"].tolist() == [0, 1, 2, 3] and back["f"] == ("function", "len")
    assert isinstance(back["x"], wire.Unsupported) and back["x"] != back["x"]
    with pytest.raises(ValueError):
        wire.decode({"pickle": "gASV"}, lambda *args: None)


def test_cells_the_answers_do_not_need_are_skipped():
    chapter = new_notebook(cells=[new_code_cell("import torch"), new_code_cell("K = 3"),
                                  new_code_cell("plot = torch.zeros(1000)"),
                                  new_code_cell("table = [K] * 2")])
    submission = new_notebook(cells=chapter.cells + [new_markdown_cell("## Exercises"),
                                                     new_code_cell("answer = torch.tensor(K)")])
    assert grading.cells_to_run(submission, chapter) == ["import torch", "K = 3", "answer = torch.tensor(K)"]


def test_nothing_of_one_notebook_reaches_the_next_in_the_same_sandbox(tmp_path):
    """One worker grades both, one after the other: what the first leaves behind is gone."""
    first = notebook(tmp_path, "01_convolutions-a.ipynb", [
        "import subprocess, torch\n"
        "open('/tmp/work/planted.py', 'w').write('x = 1')\nopen('/tmp/home/planted', 'w').write('x')\n"
        "subprocess.Popen(['sleep', '1000'])\n"
        "torch.Tensor.sum = lambda self, *args, **kwargs: torch.tensor(99.0)\n"])
    second = notebook(tmp_path, "01_convolutions-b.ipynb", [
        "import os, torch\nfrom cnnbook.exercises import check\n"
        "traces = [p for p in ('/tmp/work/planted.py', '/tmp/home/planted') if os.path.exists(p)]\n"
        "traces += [pid for pid in os.listdir('/proc') if pid.isdigit() and b'sleep' in "
        "open(f'/proc/{pid}/cmdline', 'rb').read()]\n"
        "answer = 760 if not traces and torch.zeros(1).sum().item() == 0 else 0\n"
        "check('ch1.conv-params', answer)\n"])
    grades = grading.grade_all([first, second], workers=1, limits=grading.Limits(cell_seconds=30))
    verdict = {r.exercise: r for r in grades[1].results}["ch1.conv-params"]
    assert verdict.correct, verdict.message


def test_a_reply_nested_too_deeply_is_reported_not_raised():
    """A notebook's process may send anything on its pipe; deep nesting must not crash the grader."""
    read, write = os.pipe()
    os.write(write, b"[" * 20_000 + b"\n")   # fits in the pipe's buffer
    os.close(write)

    class Box:   # stands for the sandbox: nothing to kill, no exit status
        limits = grading.Limits()
        close = staticmethod(lambda: None)
        finished = staticmethod(lambda: None)

    session = grading._Session(Box, os.open(os.devnull, os.O_WRONLY), read)
    session.started = True
    with pytest.raises(grading.SandboxFailed, match="not an answer"):
        session.request({"op": "answers"})


def test_modules_as_answers_are_rebuilt_or_called_in_the_sandbox(tmp_path):
    """A PyTorch layer comes back rebuilt from its data; a student's own module class stays
    in the sandbox and the checker calls its forward there."""
    lenet = notebook(tmp_path, "02_lenet-alice.ipynb", [
        "import torch\nfrom torch import nn\nfrom cnnbook.exercises import check\n"
        "class LeNet32(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.features = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),\n"
        "                                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))\n"
        "        self.head = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),\n"
        "                                  nn.ReLU(), nn.Linear(84, 10))\n"
        "    def forward(self, x):\n"
        "        return self.head(self.features(x))\n"
        "check('ch2.lenet-32', LeNet32)\n"])
    nin = notebook(tmp_path, "05_nin-alice.ipynb", [
        "from torch import nn\nfrom cnnbook.exercises import check\n"
        "def to_linear(conv):\n"
        "    linear = nn.Linear(conv.in_channels, conv.out_channels)\n"
        "    linear.weight.data = conv.weight.data[:, :, 0, 0].clone()\n"
        "    linear.bias.data = conv.bias.data.clone()\n"
        "    return linear\n"
        "check('ch5.conv1x1-as-linear', to_linear)\n"])
    grades = grading.grade_all([lenet, nin], workers=2, limits=grading.Limits(cell_seconds=30))
    lenet_verdict = {r.exercise: r for r in grades[0].results}["ch2.lenet-32"]
    nin_verdict = {r.exercise: r for r in grades[1].results}["ch5.conv1x1-as-linear"]
    assert lenet_verdict.correct and "61,706 parameters" in lenet_verdict.message, lenet_verdict.message
    assert nin_verdict.correct, nin_verdict.message


def test_every_checker_is_found_under_its_exercise():
    """The grader lists each chapter's exercises from the book: every checker belongs to one."""
    from cnnbook.exercises import exercises
    chapters = sorted({name.split(".")[0] for name in exercises()})
    found = [e for chapter in chapters for e in grading.chapter_exercises(grading.chapter_notebook(chapter))]
    assert sorted(e.checker for e in found if e.checker) == exercises()
    assert all(e.title and e.points == 1 for e in found)
