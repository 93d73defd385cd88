"""Grading students' notebooks: each in a sandbox, verdicts computed by the grader.

``grade`` runs the submission's code cells that the answers need (``cells_to_run``)
one by one, in quick mode, in a fresh process of a sandbox (``cnnbook.book.sandbox``,
``Sandbox``), in an IPython shell where ``check(exercise, answer)`` only records the answer. Then it asks for the answers as data
(``cnnbook.book.wire``) and runs the chapter's checkers in the grader's own process;
when an answer is a function or a module, the checker calls it back in the sandbox with
the grader's inputs and gets data back. The student's code never holds a checker or a
verdict, so nothing it writes, prints or patches can change the grade.

A submission that is not a notebook, a cell that runs too long, a process that dies or
runs out of memory: each is reported for that submission, and the others are graded.
``grade_all`` grades many at once, one sandbox per core, each forking a process per notebook.

    python -m cnnbook grade submissions/*.ipynb --out grades/
"""

from __future__ import annotations

import ast
import base64
import io
import json
import os
import pickle
import re
import select
import signal
import socket
import subprocess
import symtable
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import nbformat
from torch import nn

from ..exercises import Feedback, check, exercises
from . import sandbox, wire
from .sandbox import Limits

ROOT = Path(__file__).resolve().parents[2]
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([\w.-]+)["']""")
MAX_REPLY = 64 * 2 ** 20      # bytes in one message from the sandbox
MAX_NOTEBOOK = 32 * 2 ** 20   # bytes in a submitted notebook
_EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise\}\s*(.*)\n:label:\s*(\S+)", re.M)


@dataclass(frozen=True)
class Exercise:
    """One exercise of a chapter, checkable or graded by hand, and what it is worth."""

    label: str
    title: str
    checker: str | None   # the id passed to check(...), or None for a free-response exercise
    points: float = 1.0


def chapter_of(notebook: str | os.PathLike) -> str:
    """The chapter prefix of the exercises, from the file name: ``02_lenet-alice.ipynb`` -> ``ch2``."""
    number = re.match(r"\d+", Path(notebook).name)
    if not number:
        raise ValueError(f"cannot tell the chapter of {Path(notebook).name}: its name should start with the "
                         "chapter's number (as 02_lenet.ipynb does), or pass the chapter (e.g. --chapter ch2)")
    return f"ch{int(number.group())}"


def chapter_notebook(chapter: str, book: str | os.PathLike = ROOT) -> nbformat.NotebookNode:
    """The book's own notebook of ``chapter`` (``ch1``)."""
    number = int(chapter.removeprefix("ch")) if re.fullmatch(r"ch\d+", chapter) else None
    paths = sorted(Path(book, "chapters").glob(f"{number:02d}_*.ipynb")) if number is not None else []
    if not paths:
        raise ValueError(f"no chapter {chapter!r} in {Path(book, 'chapters')}; chapters look like ch1, ch2, ...")
    return nbformat.read(paths[0], as_version=4)


def chapter_exercises(notebook: nbformat.NotebookNode) -> list[Exercise]:
    """The exercises of a chapter's notebook, in order: each ``{exercise}`` with the checker
    that the code cell after it calls, if one does."""
    titles, checkers, current = {}, {}, None
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for _, title, label in _EXERCISE.findall(cell.source):
                titles[label], current = title.strip(), label
        elif current and current not in checkers:
            called = [e for e in CHECK_CALL.findall(cell.source) if e in set(exercises())]
            if called:
                checkers[current] = called[0]
    found = [Exercise(label, title, checkers.get(label)) for label, title in titles.items()]
    if not any(exercise.checker for exercise in found):
        raise ValueError("the chapter has no checkable exercises; chapters with some: "
                         + ", ".join(sorted({e.split(".")[0] for e in exercises()},
                                            key=lambda c: int(c[2:]))))
    return found


@dataclass
class Grade:
    """The verdicts on one submission, and what is left to grade by hand."""

    notebook: str
    student: str
    results: list[Feedback]
    manual: list[Exercise]
    points: dict[str, float]
    problem: str | None = None   # why the submission could not be graded in full, if it could not
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(self.points[r.exercise] for r in self.results if r.correct)

    @property
    def possible(self) -> float:
        return sum(self.points[r.exercise] for r in self.results)

    def report(self) -> str:
        lines = [f"{self.notebook}:"] + ([f"  problem: {self.problem}"] if self.problem else [])
        lines += [f"  {result}" for result in self.results]
        lines += [f"  [to grade by hand] {e.label}: {e.title} ({e.points:g} points)" for e in self.manual]
        return "\n".join(lines + [f"  score: {self.score:g}/{self.possible:g}"])


class SandboxFailed(BaseException):
    """The submission's process stopped answering: it died, ran out of time, or spoke nonsense.
    (Not an Exception, so that ``check`` does not take it for a wrong answer.)"""


class _Answer:
    """What a checker holds of a student's function or module: a handle into the sandbox."""

    def __init__(self, session: "_Session", handle: int, name: str):
        self._session, self._handle, self._name = session, handle, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(self._handle, args, kwargs)

    def __repr__(self) -> str:
        return f"<the student's {self._name}>"


class _AnswerModule(nn.Module):
    """A student's module: its parts rebuilt in the grader, its forward run in the sandbox."""

    def __init__(self, session: "_Session", handle: int, name: str):
        super().__init__()
        self._answer = _Answer(session, handle, name)
        self._class_name = name

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._answer(*args, **kwargs)

    def _get_name(self) -> str:
        return self._class_name


class _Arguments(pickle.Pickler):
    """The grader's arguments for a call; the student's own objects go back as their handles."""

    def persistent_id(self, obj: Any) -> int | None:
        if isinstance(obj, _AnswerModule):
            return obj._answer._handle
        return obj._handle if isinstance(obj, _Answer) else None


class Sandbox:
    """A sandbox whose first process has imported what notebooks need and forks a fresh
    process per notebook (``cnnbook.book._runner.zygote``): one sandbox serves the notebooks
    a worker grades one after another, and is replaced when one of them had to be killed."""

    def __init__(self, limits: Limits):
        self.limits = limits
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            sandbox.command([sys.executable, "-m", "cnnbook.book._runner", "--zygote",
                             str(theirs.fileno())], limits),
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        self.control = ours
        self.ready = self._message(limits.notebook_seconds) == "ready"

    def _message(self, seconds: float) -> str | None:
        """The sandbox's next line on the control socket, or None when it does not come in time."""
        if not select.select([self.control], [], [], seconds)[0]:
            return None
        line = self.control.recv(64).decode(errors="replace")
        return line.strip() or None

    @property
    def alive(self) -> bool:
        return self.ready and self.process.poll() is None

    def session(self) -> "_Session":
        """A fresh process for the next notebook, talking over a new pair of pipes."""
        to_notebook, from_grader = os.pipe()
        to_grader, from_notebook = os.pipe()
        try:
            if not self.alive:
                raise OSError
            socket.send_fds(self.control, [b"fork"], [to_notebook, from_notebook])
        except OSError:
            for fd in (to_notebook, from_grader, to_grader, from_notebook):
                os.close(fd)
            raise SandboxFailed("the sandbox did not start (is bubblewrap working? see sandbox.require_bubblewrap)")
        os.close(to_notebook)
        os.close(from_notebook)
        return _Session(self, from_grader, to_grader)

    def finished(self) -> int | None:
        """Wait for the notebook's process to end; its exit status (None: the sandbox is gone)."""
        message = self._message(30) if self.alive else None
        if not message or not message.startswith("done "):
            self.close()
            return None
        return int(message.split()[1])

    def close(self) -> None:
        self.ready = False
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.control.close()


class _Session:
    """One notebook's process in a sandbox, and the grader's ends of its pipes."""

    def __init__(self, box: Sandbox, requests: int, replies: int):
        self.box, self.limits = box, box.limits
        self.requests, self.replies = requests, replies
        self.deadline = time.monotonic() + self.limits.notebook_seconds
        self.buffer = b""
        self.failure: str | None = None
        self.started = False
        self.status: int | None = None

    def request(self, message: dict) -> dict:
        if self.failure:
            raise SandboxFailed(self.failure)
        try:
            return self._exchange(message)
        except SandboxFailed as failure:
            self.failure = str(failure)
            self.close()
            raise

    def _exchange(self, message: dict) -> dict:
        if not self.started:   # the notebook process's start counts against the notebook's time only
            self.started = bool(self._reply(self.deadline).get("ready"))
        try:
            data = (json.dumps(message) + "\n").encode()
            while data:
                data = data[os.write(self.requests, data):]
        except OSError:
            raise SandboxFailed(self._death()) from None
        return self._reply(time.monotonic() + self.limits.cell_seconds + 10)   # the sandbox's own alarm comes first

    def _reply(self, limit: float) -> dict:
        while b"\n" not in self.buffer:
            left = min(limit, self.deadline) - time.monotonic()
            if left <= 0:
                self.box.close()
                raise SandboxFailed(f"the notebook ran past its {self.limits.notebook_seconds:g} s limit"
                                    if self.deadline <= limit else
                                    f"a cell ran past its {self.limits.cell_seconds:g} s limit and would not stop")
            if select.select([self.replies], [], [], left)[0]:
                chunk = os.read(self.replies, 2 ** 20)
                if not chunk:
                    raise SandboxFailed(self._death())
                self.buffer += chunk
                if len(self.buffer) > MAX_REPLY:
                    self.box.close()
                    raise SandboxFailed(f"the notebook sent more than {MAX_REPLY // 2 ** 20} MB in one answer")
        line, _, self.buffer = self.buffer.partition(b"\n")
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError):   # not JSON, or nested deeper than Python reads
            reply = None
        if type(reply) is not dict:
            self.box.close()
            raise SandboxFailed("the notebook's process sent something that is not an answer")
        return reply

    def _death(self) -> str:
        self.close()
        code = self.status
        if code is None:
            return "the notebook's sandbox stopped"
        if code == -signal.SIGKILL:
            return "the notebook's process was killed (out of memory?)"
        if code == -signal.SIGXCPU:
            return "the notebook used more CPU time than allowed"
        return f"the notebook's process stopped (exit status {code})"

    def call(self, handle: int, args: tuple, kwargs: dict) -> Any:
        buffer = io.BytesIO()
        _Arguments(buffer).dump((args, kwargs))
        reply = self.request({"op": "call", "handle": handle,
                              "arguments": base64.b64encode(buffer.getvalue()).decode(),
                              "timeout": self.limits.cell_seconds})
        if reply.get("error"):
            raise _student_error(str(reply["error"]))
        return self.decode(reply.get("value"))

    def decode(self, data: Any) -> Any:
        make = {"function": _Answer, "module": _AnswerModule}
        try:
            return wire.decode(data, lambda kind, handle, name: make[kind](self, handle, name))
        except (ValueError, KeyError, TypeError, RuntimeError) as error:
            raise SandboxFailed(f"the notebook sent an answer that cannot be read ({error})") from None

    def close(self) -> None:
        """End the notebook's process (its pipes close) and wait for the sandbox to clean up."""
        if self.requests is not None:
            os.close(self.requests)
            os.close(self.replies)
            self.requests = self.replies = None
            self.status = self.box.finished()


class _Boxes:
    """The sandboxes of the grading threads, one each, replaced when one had to be killed."""

    def __init__(self, limits: Limits):
        self.limits, self.local, self.all = limits, threading.local(), []

    def session(self) -> _Session:
        box = getattr(self.local, "box", None)
        if box is None or not box.alive:
            box = self.local.box = Sandbox(self.limits)
            self.all.append(box)
        return box.session()

    def __enter__(self) -> "_Boxes":
        return self

    def __exit__(self, *error) -> None:
        for box in self.all:
            box.close()


def _student_error(text: str) -> Exception:
    """The student's exception, under its own name, so the checker's message reads as in a kernel."""
    name, _, message = text.partition(": ")
    kind = type(name, (Exception,), {}) if name.isidentifier() else Exception
    return kind(message)


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, or a ValueError saying why it is not one."""
    if not path.is_file():
        raise ValueError("the file is missing" if not path.exists() else "it is not a file")
    if path.stat().st_size > MAX_NOTEBOOK:
        raise ValueError(f"the file is larger than {MAX_NOTEBOOK // 2 ** 20} MB")
    try:
        notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except UnicodeDecodeError:
        raise ValueError("it is not a text file, so not a notebook") from None
    except Exception as error:   # nbformat raises several kinds for JSON that is not a notebook
        raise ValueError(f"it is not a notebook ({type(error).__name__}: {str(error)[:200]})") from None
    if not isinstance(notebook.get("cells"), list):
        raise ValueError("it is not a notebook (no cells)")
    return notebook


def _names(source: str, modules: set[str]) -> tuple[set[str], set[str], set[str]]:
    """The names a cell binds or changes (assignments, imports, definitions, method calls on a
    name at top level, except on the ``modules``: ``torch.manual_seed(0)`` changes no answer),
    those it surely replaces (bound at its top level), and the global names it reads."""
    from IPython.core.inputtransformer2 import TransformerManager
    code = TransformerManager().transform_cell(source)
    tree, table = ast.parse(code), symtable.symtable(code, "<cell>", "exec")
    bound = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    read = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    nested = list(table.get_children())
    while nested:   # what functions, classes and comprehensions read from outside themselves
        scope = nested.pop()
        read |= {s.get_name() for s in scope.get_symbols() if s.is_global() and s.is_referenced()}
        bound |= {s.get_name() for s in scope.get_symbols() if s.is_declared_global() and s.is_assigned()}
        nested += scope.get_children()
    replaced = set()
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            replaced.add(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            replaced.update((alias.asname or alias.name).split(".")[0] for alias in statement.names)
        elif isinstance(statement, ast.Assign):
            replaced.update(t.id for t in statement.targets if isinstance(t, ast.Name))
    for statement in tree.body:   # x.append(...), x[0] = ..., model.fc = ...: they change x
        targets = [statement.value.func] if isinstance(statement,
                                                       ast.Expr) and isinstance(statement.value, ast.Call) \
            else getattr(statement, "targets", [getattr(statement, "target", None)])
        for target in targets:
            while isinstance(target, (ast.Attribute, ast.Subscript)):
                target = target.value
                if isinstance(target, ast.Name) and target.id not in modules:
                    bound.add(target.id)
    return bound, replaced, read


def cells_to_run(submission: nbformat.NotebookNode, book_chapter: nbformat.NotebookNode) -> list[str]:
    """The code the grader runs: every cell the student wrote or changed, the Exercises section,
    and, of the chapter's own cells before it, those that bind a name these need (transitively).
    Figures, explorers and demonstrations the answers do not use are skipped. (When a cell
    then fails for a name that only a skipped cell defines, ``grade`` runs every cell.)"""
    book_sources = {c.source for c in book_chapter.cells if c.cell_type == "code"}
    code, in_exercises = [], False
    for cell in submission.cells:
        source = str(cell.get("source", ""))
        if cell.get("cell_type") == "markdown" and re.search(r"^#{1,2} Exercises\s*$", source, re.M):
            in_exercises = True
        elif cell.get("cell_type") == "code" and source.strip():
            code.append((source,
                         in_exercises or source not in book_sources or bool(CHECK_CALL.search(source))))
    modules = {name for source, _ in code for name in re.findall(r"^import (\w+)(?:$| as)", source, re.M)} | \
        {name for source,
         _ in code for name in re.findall(r"^import \w+ as (\w+)", source, re.M)} | {"plt", "F"}
    needed, kept = set(), []
    for source, always in reversed(code):
        try:
            bound, replaced, read = _names(source, modules)
        except SyntaxError:
            bound, replaced, read, always = set(), set(), set(), True
        if always or bound & needed:
            kept.append(source)
            needed = (needed - replaced) | read
    return kept[::-1]


def student_of(path: Path) -> str:
    """``02_lenet-alice.ipynb`` -> ``alice``; a name without a dash is the student's name."""
    return path.stem.split("-", 1)[1] if "-" in path.stem else path.stem


def grade(notebook: str | os.PathLike, chapter: str | None = None, limits: Limits = Limits(),
          book: str | os.PathLike = ROOT, boxes: "_Boxes | None" = None) -> Grade:
    """Run ``notebook`` in a sandbox in quick mode and grade its chapter's exercises."""
    if boxes is None:
        with _Boxes(limits) as own:
            return grade(notebook, chapter, limits, book, own)
    path = Path(notebook)
    try:
        book_chapter = chapter_notebook(chapter or chapter_of(path), book)
        wanted = chapter_exercises(book_chapter)
    except ValueError as error:   # a misnamed file, or a chapter without checkers: reported, not graded
        return Grade(str(path), student_of(path), [], [], {}, f"not graded: {error}")
    checkable = [e.checker for e in wanted if e.checker]
    result = Grade(str(path), student_of(path), [], [e for e in wanted if not e.checker],
                  {e.checker: e.points for e in wanted if e.checker})
    started = time.monotonic()
    try:
        submission = read_submission(path)
        session = boxes.session()
    except (ValueError, SandboxFailed) as error:
        result.problem = f"not graded: {error}"
        result.results = [Feedback(exercise, False, result.problem) for exercise in checkable]
        return result
    try:
        cells = cells_to_run(submission, book_chapter)
        answers, errors = _run(session, cells)
        everything = [str(c.source) for c in submission.cells if c.get("cell_type") == "code" and str(c.source).strip()]
        if _missed(errors, [source for source in everything if source not in cells]) and not session.failure:
            session.close()
            session = boxes.session()
            answers, errors = _run(session, everything)
        result.results = [_verdict(session, exercise, answers, errors, submission) for exercise in checkable]
    except SandboxFailed as failure:   # no sandbox for the second run
        session.failure = str(failure)
        result.results = [Feedback(exercise, False, f"not graded: {failure}") for exercise in checkable]
    finally:
        session.close()
    result.problem, result.seconds = session.failure, time.monotonic() - started
    return result


def _missed(errors: dict[str, str], skipped: list[str]) -> bool:
    """Whether a cell failed for a name that a skipped cell defines (then all cells run again)."""
    missing = {name for error in errors.values() for name in re.findall(r"^NameError: name '(\w+)'", error)}
    for source in skipped:
        try:
            if missing & _names(source, set())[0]:
                return True
        except SyntaxError:
            pass
    return False


def _run(session: _Session, cells: list[str]) -> tuple[dict, dict]:
    """Run the code ``cells``; the answers (as data) and, per exercise, the error of its cell."""
    errors = {}
    try:
        for source in cells:
            reply = session.request({"op": "cell", "source": source, "timeout": session.limits.cell_seconds})
            if reply.get("error"):
                for exercise in CHECK_CALL.findall(source):
                    errors[exercise] = str(reply["error"])[:500]
        answers = session.request({"op": "answers"}).get("answers")
    except SandboxFailed:
        return {}, errors
    return (answers if isinstance(answers, dict) else {}), errors


def _verdict(session: _Session, exercise: str, answers: dict, errors: dict,
             submission: nbformat.NotebookNode) -> Feedback:
    """The checker's verdict on the answer, run here; or why there is no answer."""
    if exercise in answers:
        try:
            return check(exercise, session.decode(answers[exercise]))
        except SandboxFailed as failure:
            return Feedback(exercise, False, f"not graded: {failure}")
    if exercise in errors:
        return Feedback(exercise, False, f"the exercise's cell raised {errors[exercise]}")
    if session.failure:
        return Feedback(exercise, False, f"not graded: {session.failure}")
    called = set(CHECK_CALL.findall("\n".join(str(c.get("source", "")) for c in submission.cells
                                              if c.get("cell_type") == "code")))
    if exercise in called:
        return Feedback(exercise, False, "its check(...) call did not run")
    return Feedback(exercise, False, f'no check("{exercise}", ...) call in the notebook')


def grade_all(notebooks: Iterable[str | os.PathLike], chapter: str | None = None, limits: Limits = Limits(),
              workers: int | None = None, progress: Callable[[int, int, Grade], None] | None = None,
              book: str | os.PathLike = ROOT) -> list[Grade]:
    """Grade many notebooks, ``workers`` sandboxes at a time (default: one per core), in their order."""
    paths = list(dict.fromkeys(Path(n) for n in notebooks))
    if chapter:
        chapter_exercises(chapter_notebook(chapter, book))   # a wrong --chapter fails before any work
    sandbox.require_bubblewrap()
    grades: list[Grade | None] = [None] * len(paths)
    with _Boxes(limits) as boxes, ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = {pool.submit(grade, path, chapter, limits, book, boxes): index for index,
                   path in enumerate(paths)}
        for done, future in enumerate(as_completed(futures), 1):
            grades[futures[future]] = future.result()
            if progress:
                progress(done, len(paths), grades[futures[future]])
    return grades
