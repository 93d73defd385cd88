"""``python -m cnnbook``: train, summary and models."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnnbook.__main__ import main
from cnnbook.train import History

FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_models_lists_names(capsys):
    assert main(["models"]) == 0
    assert {"lenet", "lenet5"} <= set(capsys.readouterr().out.split())


def test_summary_prints_the_layer_table():
    result = subprocess.run([sys.executable, "-m", "cnnbook", "summary", "--model", "lenet5", "--depth", "2"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search(r"features\.c3\s+PartialConv\s+\(16, 10, 10\)\s+1,516", result.stdout)


def test_unknown_model_is_a_clear_error(capsys):
    assert main(["summary", "--model", "lenett"]) == 2
    assert "Did you mean 'lenet'" in capsys.readouterr().err


def test_bad_model_argument(capsys):
    assert main(["summary", "--model", "lenet", "--arg", "depth=3"]) == 2
    assert "depth" in capsys.readouterr().err


@pytest.mark.skipif(not FASHION.exists() and not __import__("os").environ.get("CI"),
                    reason="needs Debian's dataset-fashion-mnist (CI installs it)")
def test_train_writes_history_and_checkpoint(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CNNBOOK_QUICK", "1")
    args = ["train", "--model", "lenet", "--epochs", "1", "--optimizer", "adamw", "--device", "cpu",
            "--checkpoint", str(tmp_path / "lenet.pt"), "--save-history", str(tmp_path / "h.json")]
    assert main(args) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"model=lenet dataset=fashion-mnist epochs=1 test_acc=0\.\d{4} seconds=\d+ device=cpu", line)
    history = History.load(tmp_path / "h.json")
    assert history.summary_line() == line and (tmp_path / "lenet.pt").exists()
    assert main(args[:-2]) == 0  # resumes the finished run: nothing to train, same result
    assert capsys.readouterr().out.strip().splitlines()[-1].split(" seconds=")[0] == line.split(" seconds=")[0]
