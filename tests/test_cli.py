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


@pytest.mark.parametrize("args, message", [
    (["--data-root", "/nonexistent/typo"], "the data root '/nonexistent/typo' does not exist"),
    (["--dataset", "folder", "--data-root", "/nonexistent/typo"], "no train or val folder"),
])
def test_train_refuses_a_data_root_without_the_dataset(capsys, monkeypatch, args, message):
    """A typo in --data-root used to train on the system's copy instead."""
    called = []
    monkeypatch.setattr("cnnbook.__main__.fit", lambda *a, **k: called.append(1))
    assert main(["train", "--model", "lenet", "--device", "cpu", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and not called


def test_train_refuses_an_unknown_quick_mode_value(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CNNBOOK_QUICK", "maybe")
    assert main(["train", "--model", "lenet", "--device", "cpu", "--data-root", str(tmp_path)]) == 2
    assert "CNNBOOK_QUICK='maybe' means neither quick mode" in capsys.readouterr().err


def test_train_refuses_images_the_model_cannot_take(capsys, monkeypatch, tmp_path):
    """lenet5 wants 32x32: unpadded Fashion-MNIST is refused before training, not at its first step."""
    from test_data import write_idx
    write_idx(tmp_path / "data")
    monkeypatch.setenv("CNNBOOK_CACHE", str(tmp_path / "cache"))
    called = []
    monkeypatch.setattr("cnnbook.__main__.fit", lambda *a, **k: called.append(1))
    args = ["train", "--model", "lenet5", "--device", "cpu", "--data-root", str(tmp_path / "data")]
    assert main(args) == 2
    assert "lenet5 expects 1x32x32 images, got 1x28x28" in capsys.readouterr().err and not called
    assert main(args + ["--pad", "2"]) == 0 and called
