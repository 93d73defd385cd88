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
import contextlib
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


PRELOAD = ["IPython.core.interactiveshell", "torch", "matplotlib.pyplot", "cnnbook.exercises",
           "cnnbook.book.wire", "cnnbook.models", "cnnbook.analysis", "cnnbook.data", "cnnbook.source",
           "cnnbook.widgets", "cnnbook.plotting", "cnnbook.train"]


def zygote(control_fd: int) -> None:
    """Import what every notebook needs once, then fork a fresh process for each notebook:
    the grader sends the pipes of the next one over ``control_fd``, which the notebooks never
    hold. Between two notebooks every other process in the sandbox is killed and the
    temporary folders are emptied, so nothing of one reaches the next."""
    import ctypes
    import importlib
    import socket

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE 0: no notebook can read or write our memory
    control = socket.socket(fileno=control_fd)
    control.sendall(b"ready\n")
    while True:
        message, fds, _, _ = socket.recv_fds(control, 16, 2)
        if not message or len(fds) != 2:
            return
        child = os.fork()
        if child == 0:
            control.close()
            os.dup2(fds[0], 0)
            os.dup2(fds[1], 1)
            for fd in fds:
                os.close(fd)
            serve()
            os._exit(0)
        for fd in fds:
            os.close(fd)
        status = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
        try:
            os.kill(-1, signal.SIGKILL)   # whatever the notebook left running
        except ProcessLookupError:
            pass
        for folder in ("/tmp", "/dev/shm"):
            if os.path.isdir(folder):
                _empty(folder)
        os.makedirs("/tmp/work", exist_ok=True)
        os.makedirs("/tmp/home", exist_ok=True)
        os.chdir("/tmp/work")
        control.sendall(f"done {status}\n".encode())


def _empty(folder: str) -> None:
    """Remove what a notebook left in ``folder``, but not the read-only mounts bound under it
    (a Python environment or checkout under /tmp)."""
    device = os.stat(folder).st_dev
    for entry in os.scandir(folder):
        if not entry.is_dir(follow_symlinks=False):
            os.unlink(entry.path)
        elif entry.stat(follow_symlinks=False).st_dev == device:
            _empty(entry.path)
            with contextlib.suppress(OSError):   # a folder that holds a mount stays
                os.rmdir(entry.path)


def serve() -> None:
    """Run one notebook: the grader's requests on fd 0, the replies on fd 1."""
    # The protocol keeps private copies of the pipes; the student's prints go nowhere.
    requests = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)

    from IPython.core.interactiveshell import InteractiveShell

    import cnnbook.exercises
    from cnnbook.book.wire import encode

    answers: dict[str, Any] = {}
    handles: dict[int, Any] = {}

    def handle_of(value: Any) -> int:
        handles[id(value)] = value
        return id(value)

    def record(exercise: str, answer: Any) -> str:
        answers[str(exercise)] = answer
        return f"{exercise}: answer recorded for grading"

    cnnbook.exercises.check = record
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
    zygote(int(sys.argv[2])) if sys.argv[1:2] == ["--zygote"] else serve()
