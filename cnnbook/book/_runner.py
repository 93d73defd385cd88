"""The sandbox's side of grading: runs a submission's cells and answers the grader's calls.

Started by ``cnnbook.book.grading`` inside the sandbox, this process talks to the grader
over its standard input and output (one JSON message a line) and nothing else. The
notebook's ``check(exercise, answer)`` only records the answer here; the grader asks for
the answers afterwards, as data (``cnnbook.book.wire``), and runs the checkers itself,
calling back here for every answer that is a function or a module. Nothing this process
says is a verdict, so nothing the student's code does here can forge one.
"""

from __future__ import annotations

import base64
import io
import json
import os
import pickle
import signal
import sys
from typing import Any


class _TimeUp(BaseException):
    """Raised by the alarm in a cell or call that runs past its limit."""


def _alarm(signum, frame):
    raise _TimeUp()


def main() -> None:
    # The protocol keeps private copies of the pipes; the student's prints go nowhere.
    requests = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)

    from IPython.core.interactiveshell import InteractiveShell
    import cnnbook.exercises
    from cnnbook.book.wire import encode
    from cnnbook.exercises import _core

    answers: dict[str, Any] = {}
    handles: dict[int, Any] = {}

    def handle_of(value: Any) -> int:
        handles[id(value)] = value
        return id(value)

    def record(exercise: str, answer: Any) -> str:
        answers[str(exercise)] = answer
        return f"{exercise}: answer recorded for grading"

    cnnbook.exercises.check = _core.check = record
    shell = InteractiveShell.instance()
    signal.signal(signal.SIGALRM, _alarm)

    def timed(seconds: float, work):
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return work()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def run_cell(request: dict) -> dict:
        try:
            result = timed(request["timeout"], lambda: shell.run_cell(request["source"], store_history=False))
        except _TimeUp:
            return {"error": f"TimeoutError: the cell ran past its {request['timeout']:g} s limit"}
        error = result.error_before_exec or result.error_in_exec
        if isinstance(error, _TimeUp):
            return {"error": f"TimeoutError: the cell ran past its {request['timeout']:g} s limit"}
        return {"error": f"{type(error).__name__}: {error}" if error else None}

    class Arguments(pickle.Unpickler):   # the grader's own objects (trusted), and handles to ours
        def persistent_load(self, handle):
            return handles[handle]

    def call(request: dict) -> dict:
        function = handles[request["handle"]]
        args, kwargs = Arguments(io.BytesIO(base64.b64decode(request["arguments"]))).load()
        try:
            return {"value": encode(timed(request["timeout"], lambda: function(*args, **kwargs)), handle_of)}
        except _TimeUp:
            return {"error": f"TimeoutError: the call ran past its {request['timeout']:g} s limit"}
        except Exception as error:
            return {"error": f"{type(error).__name__}: {error}"}

    replies.write(json.dumps({"ready": True}) + "\n")   # imports done: the cells' clocks start now
    replies.flush()
    for line in requests:
        request = json.loads(line)
        if request["op"] == "cell":
            reply = run_cell(request)
        elif request["op"] == "call":
            reply = call(request)
        else:
            reply = {"answers": {exercise: encode(answer, handle_of) for exercise, answer in answers.items()}}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    sys.exit(main())
