"""A sandbox for one student's code: bubblewrap, as an unprivileged user, with limits.

The process sees only the system's programs and libraries, the Python environment with
``cnnbook`` (read-only) and an empty temporary folder of its own: not the teacher's
files, not the book's chapters (the solutions), not the other submissions. It has no
network (its own empty network namespace), its own process and IPC namespaces, and
limits on memory (address space), file size and CPU time; the grader adds the
wall-clock limits per cell and per notebook and kills the whole sandbox when one passes.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cnnbook

NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    """What one submission may use."""

    cell_seconds: float = 120       # per cell, and per call of an answer by a checker
    notebook_seconds: float = 600   # the whole notebook, its checks included
    memory_mb: int = 8192           # address space of the notebook's process
    scratch_mb: int = 256           # its temporary folder

    def __post_init__(self):
        for name in ("cell_seconds", "notebook_seconds", "memory_mb", "scratch_mb"):
            if not getattr(self, name) > 0:
                raise ValueError(f"the limit {name} must be positive, got {getattr(self, name)}")


def require_bubblewrap() -> None:
    """Fail early, with what to install, when the sandbox cannot be made here."""
    missing = [tool for tool in ("bwrap", "prlimit") + (("setpriv",) if os.geteuid() == 0 else ())
               if not shutil.which(tool)]
    if missing:
        raise FileNotFoundError(f"grading runs each notebook in a sandbox and needs {', '.join(missing)}: on "
                                "Debian or Ubuntu, `sudo apt-get install bubblewrap util-linux`")
    probe = subprocess.run(command(["true"], Limits()), capture_output=True, text=True)
    if probe.returncode:
        raise PermissionError(f"bubblewrap cannot make a sandbox on this machine: {probe.stderr.strip()} "
                           "(it needs user namespaces: sysctl kernel.unprivileged_userns_clone=1)")


def _system_mounts() -> list[str]:
    """The system's programs and libraries, read-only; /bin and friends as the links they are."""
    arguments = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            arguments += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            arguments += ["--ro-bind", top, top]
    for shared in ("/etc/ld.so.cache", "/etc/alternatives", "/etc/passwd", "/etc/group", "/etc/fonts"):
        if os.path.exists(shared):
            arguments += ["--ro-bind", shared, shared]
    return arguments


def _python_folders() -> list[str]:
    """The Python environment, the cnnbook package (alone, when installed from a checkout), the data."""
    folders = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
               Path(cnnbook.__file__).resolve().parent}
    data = os.environ.get("CNNBOOK_DATA")
    if data and os.path.isdir(data):
        folders.add(Path(data).resolve())
    return [str(folder) for folder in sorted(folders)]


def environment() -> dict[str, str]:
    """The sandbox's whole environment: nothing of the teacher's is passed on."""
    values = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp/home",
              "CNNBOOK_QUICK": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
              "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
    if os.environ.get("CNNBOOK_DATA"):
        values["CNNBOOK_DATA"] = str(Path(os.environ["CNNBOOK_DATA"]).resolve())
    return values


def _open_to_all(path: Path) -> bool:
    """Whether any user can reach ``path``: every folder above it lets others through."""
    return all(os.stat(folder).st_mode & stat.S_IXOTH for folder in [path, *path.parents])


def _as_nobody() -> list[str]:
    """Run as the unprivileged user nobody when the grader is root and nobody can reach the
    Python environment; else bubblewrap maps the sandbox's user to nobody in its own user
    namespace (then root-only files inside the read-only mounts stay readable to it)."""
    if os.geteuid() != 0 or not all(_open_to_all(Path(folder.rstrip("/"))) for folder in _python_folders()):
        return []
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def command(program: list[str], limits: Limits) -> list[str]:
    """The command line that runs ``program`` in a fresh sandbox with ``limits``."""
    user = _as_nobody()
    memory = limits.memory_mb * 2 ** 20
    rlimits = ["prlimit", f"--as={memory}", f"--fsize={limits.scratch_mb * 2 ** 20}", "--nproc=256",
               f"--cpu={int(limits.notebook_seconds) + 10}", "--core=0", "--"]
    bwrap = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
             "--uid", str(NOBODY), "--gid", str(NOBODY),
             # the scratch /tmp first, so that an environment or checkout under /tmp is bound over it
             "--size", str(limits.scratch_mb * 2 ** 20), "--tmpfs", "/tmp", "--dir", "/tmp/home", "--dir",
             "/tmp/work", *_system_mounts(),
             *[part for folder in _python_folders() for part in ("--ro-bind", folder, folder)], "--proc",
             "/proc", "--dev", "/dev", "--chdir", "/tmp/work"]
    for name, value in environment().items():
        bwrap += ["--setenv", name, value]
    return user + rlimits + bwrap + ["--"] + program
