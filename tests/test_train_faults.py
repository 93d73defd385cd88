"""The trainer under faults and hostile inputs: the cases of docs/robustness.md,
"Training and checkpoints". Each gives a clear error before any step, or works."""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
import torchvision
from test_train import Batches, blobs, run, tiny_model
from torch import nn

from cnnbook import models, train
from cnnbook.models.googlenet import GoogLeNetOutputs
from cnnbook.models.inception import InceptionV3Outputs
from cnnbook.train import CheckpointError, History, TrainingDiverged, fit


class Untouchable(Batches):
    """A loader that fails the test if fit ever draws a batch from it."""

    def __iter__(self):
        raise AssertionError("fit started training before refusing")


def untouchable():
    return Untouchable(*blobs()), Untouchable(*blobs(128, seed=1))


def empty():
    loader = Untouchable(*blobs())
    loader.batches = []
    return loader


def refused(error, match, **kwargs):
    """fit on loaders it must never read, with ``kwargs``: raises ``error`` matching ``match``."""
    model = kwargs.pop("model", None) or tiny_model()
    with pytest.raises(error, match=match):
        fit(model, kwargs.pop("data", None) or untouchable(), device="cpu", progress=False, live_plot=False,
            **kwargs)


# ---- options ----------------------------------------------------------------------

BAD_OPTIONS = [
    (dict(epochs=2.5), r"epochs must be a whole number, at least 1, got 2\.5"),
    (dict(epochs="3"), r"epochs must be a whole number"),
    (dict(batch_size=0), r"batch_size must be a whole number, at least 1, got 0"),
    (dict(lr=-0.1), r"lr must be a finite number > 0, got -0\.1"),
    (dict(lr=0), r"lr must be a finite number > 0"),
    (dict(lr=float("nan")), r"lr must be a finite number > 0, got nan"),
    (dict(lr=float("inf")), r"lr must be a finite number > 0, got inf"),
    (dict(weight_decay=-1e-4), r"weight_decay must be a finite number >= 0"),
    (dict(momentum=0), r"momentum must be between 0 and 1"),
    (dict(momentum=1.5), r"momentum must be between 0 and 1"),
    (dict(label_smoothing=1.5), r"label_smoothing must be below 1"),
    (dict(label_smoothing=-0.1), r"label_smoothing must be a finite number >= 0"),
    (dict(aux_weight=-0.3), r"aux_weight must be a finite number >= 0"),
]


@pytest.mark.parametrize("kwargs, match", BAD_OPTIONS, ids=[next(f"{k}={v!r}" for k, v in kw.items())
                                                            for kw, _ in BAD_OPTIONS])
def test_bad_options_are_refused_before_any_step(kwargs, match):
    refused(ValueError, match, **kwargs)


def test_momentum_is_not_checked_for_adamw():
    _, history = run(epochs=1, optimizer="adamw", momentum=0)
    assert len(history.epochs) == 1


@pytest.mark.parametrize("data, error, match", [
    (lambda: Batches(*blobs()), TypeError, r"a \(train_loader, test_loader\) pair, got Batches"),
    (lambda: (*untouchable(), Untouchable(*blobs())), TypeError, r"pair, got tuple"),
    (lambda: (empty(), Untouchable(*blobs())), ValueError, "the train loader yields no batches"),
    (lambda: (Untouchable(*blobs()), empty()), ValueError, "the test loader yields no batches"),
], ids=["one-loader", "three-loaders", "empty-train", "empty-test"])
def test_bad_data_is_refused_before_any_step(data, error, match):
    refused(error, match, data=data())


@pytest.mark.parametrize("steps", [3, 4])
def test_a_one_cycle_too_short_to_warm_up_is_refused(steps):
    short = Untouchable(*blobs(32 * steps))     # PyTorch divides by zero at 4, by a negative length below
    refused(ValueError, f"the one-cycle schedule needs at least 5 steps, this run has {steps}",
            data=(short, short), epochs=1)


@pytest.mark.parametrize("model", [models.create, nn.Flatten()], ids=["a-function", "no-parameters"])
def test_a_model_that_cannot_train_is_refused(model):
    refused(TypeError, "model must be a torch.nn.Module with trainable parameters", model=model)


# ---- auxiliary classifiers ------------------------------------------------------------

def images(n, size, seed=0, batch_size=8):
    """``n`` 1-channel ``size`` x ``size`` images of two classes (dark and light), in batches."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 1, size, size, generator=g) + (y.float() * 2 - 1)[:, None, None, None]
    return Batches(x, y, batch_size)


@pytest.mark.parametrize("outputs_type, weight", [
    (GoogLeNetOutputs, 0.3), (torchvision.models.GoogLeNetOutputs, 0.3),
    (InceptionV3Outputs, 0.4), (torchvision.models.InceptionOutputs, 0.4)],
    ids=["cnnbook-googlenet", "torchvision-googlenet", "cnnbook-inception_v3", "torchvision-inception_v3"])
def test_auxiliary_losses_are_weighted_as_in_the_papers(outputs_type, weight):
    labels = torch.tensor([0, 1, 2, 1])
    heads = [torch.randn(4, 3) for _ in outputs_type._fields]
    criterion = nn.CrossEntropyLoss()
    loss, main, aux = train._losses(outputs_type(*heads), labels, criterion, None)
    expected_aux = [criterion(h, labels) for h in heads[1:]]
    assert main == criterion(heads[0],
                             labels) and aux.tolist() == pytest.approx([a.item() for a in expected_aux])
    assert loss.item() == pytest.approx(main.item() + weight * sum(expected_aux).item())
    assert train._losses(outputs_type(*heads), labels, criterion, 1.0)[0].item() == pytest.approx(
        main.item() + sum(expected_aux).item())


def small_googlenet():
    torch.manual_seed(0)
    return models.create("googlenet", in_channels=1, num_classes=2, small_input=True,
                         stem_pool=True, width=0.125)


def aux_parameters(model):
    return [p.detach().clone() for p in [*model.aux1.parameters(), *model.aux2.parameters()]]


def test_googlenet_trains_its_auxiliary_classifiers():
    model = small_googlenet()
    before = aux_parameters(model)
    history = fit(model, (images(16, 28), images(8, 28, seed=1)), epochs=1, optimizer="sgd", weight_decay=0,
                  schedule="constant", device="cpu", progress=False, live_plot=False)
    record = history.final
    assert len(record["train_aux_loss"]) == 2 and all(0 < loss < 10 for loss in record["train_aux_loss"])
    assert all(not torch.equal(a, b) for a, b in zip(before, aux_parameters(model)))

    model = small_googlenet()       # weight 0, no weight decay: the auxiliary classifiers get nothing
    before = aux_parameters(model)
    fit(model, (images(16, 28), images(8, 28, seed=1)), epochs=1, optimizer="sgd", weight_decay=0,
        schedule="constant", aux_weight=0, device="cpu", progress=False, live_plot=False)
    assert all(torch.equal(a, b) for a, b in zip(before, aux_parameters(model)))


@pytest.mark.parametrize("build", [
    lambda: models.create("inception_v3", in_channels=1, num_classes=2, small_input=True, width=0.125),
    lambda: torchvision.models.googlenet(num_classes=2, aux_logits=True, init_weights=True),
], ids=["cnnbook-inception_v3", "torchvision-googlenet"])
def test_other_networks_with_auxiliary_classifiers_train(build):
    torch.manual_seed(0)
    model = build()
    size, channels = (35, 1) if isinstance(model, models.inception.InceptionV3) else (32, 3)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, channels, size, size, generator=g), torch.randint(0, 2, (4,), generator=g)
    history = fit(model, (Batches(x, y, 4), Batches(x, y, 4)), epochs=1, schedule="constant", device="cpu",
                  progress=False, live_plot=False)
    assert len(history.final["train_aux_loss"]) == len(model.train()(x[:2])) - 1


def test_an_unknown_auxiliary_output_asks_for_its_weight():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.head = tiny_model(), nn.Linear(2, 2)

        def forward(self, x):
            logits = self.body(x)
            return (logits, self.head(logits)) if self.training else logits

    with pytest.raises(TypeError, match=r"returned a tuple in training mode.*pass aux_weight"):
        run(epochs=1, model=TwoHeads())
    _, history = run(epochs=1, model=TwoHeads(), aux_weight=0.5)
    assert len(history.final["train_aux_loss"]) == 1


# ---- resume checks everything it resumes ---------------------------------------------

@pytest.fixture
def finished(tmp_path):
    """A checkpoint of a finished 2-epoch run of the tiny model, and its bytes."""
    path = tmp_path / "run.pt"
    run(epochs=2, checkpoint=path)
    return path, path.read_bytes()


class Wider(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 2))

    def forward(self, x):
        return self.net(x)


@pytest.mark.parametrize("kwargs, difference", [
    (dict(train_loader=Batches(*blobs(), batch_size=64)),
     "batch_size=32 in the checkpoint, batch_size=64 now"),
    (dict(train_loader=Batches(*blobs(224))), "examples=256 in the checkpoint, examples=224 now"),
    (dict(lr=0.1), "lr=0.05 in the checkpoint, lr=0.1 now"),
    (dict(weight_decay=1e-3), "weight_decay=0.0005 in the checkpoint, weight_decay=0.001 now"),
    (dict(momentum=0.8), "momentum=0.9 in the checkpoint, momentum=0.8 now"),
    (dict(optimizer="adamw"), "optimizer='sgd' in the checkpoint, optimizer='adamw' now"),
    (dict(schedule="cosine"), "schedule='onecycle' in the checkpoint, schedule='cosine' now"),
    (dict(label_smoothing=0.1), "label_smoothing=0.0 in the checkpoint, label_smoothing=0.1 now"),
    (dict(aux_weight=0.5), "aux_weight=None in the checkpoint, aux_weight=0.5 now"),
    (dict(seed=1), "seed=0 in the checkpoint, seed=1 now"),
    (dict(epochs=3), "epochs=2 in the checkpoint, epochs=3 now"),
    (dict(name="lenet"), "model='sequential' in the checkpoint, model='lenet' now"),
    (dict(model=Wider(), name="sequential"),
     "the model's tensors differ: 8 of them, e.g. 0.bias: (4,) in the "
     "checkpoint, absent now"),
], ids=["batch_size", "examples", "lr", "weight_decay", "momentum", "optimizer", "schedule",
        "label_smoothing", "aux_weight", "seed", "epochs", "name", "model"])
def test_resume_refuses_a_different_run_before_any_step(finished, kwargs, difference):
    path, saved = finished
    model = kwargs.pop("model", None) or tiny_model(seed=7)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(CheckpointError) as error:
        run(checkpoint=path, model=model, **{"epochs": 2, **kwargs})
    message = str(error.value)
    assert f"the checkpoint {path} was written by a different run" in message and difference in message
    assert "delete" in message and "pass another checkpoint path" in message
    assert path.read_bytes() == saved and all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert not path.with_name("run.pt.lock").exists()


def test_resume_refuses_another_dataset_and_world_size(finished):
    path, _ = finished
    loader = Batches(*blobs())
    loader.dataset_name = "mnist"
    with pytest.raises(CheckpointError, match="dataset='blobs' in the checkpoint, dataset='mnist' now"):
        run(epochs=2, checkpoint=path, train_loader=loader)
    state = torch.load(path, weights_only=True)
    state["settings"]["world_size"] = 2        # as written under torchrun by two processes
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="world_size=2 in the checkpoint, world_size=1 now"):
        run(epochs=2, checkpoint=path)


def test_resume_of_device_loaders_checks_augmentation(tmp_path):
    from cnnbook import data
    x = (torch.rand(64, 1, 4, 4) * 255).to(torch.uint8)
    y = torch.randint(0, 2, (64,))

    def loaders(augment):
        def make(**kwargs):
            return data.DeviceLoader(x, y, 8, device="cpu", mean=0.5, std=0.25, crop_padding=1, **kwargs)
        return make(shuffle=True, augment=augment), make()

    path = tmp_path / "run.pt"
    fit(tiny_model(), loaders(True), epochs=1, device="cpu", progress=False, live_plot=False, checkpoint=path)
    with pytest.raises(CheckpointError, match="augment=True in the checkpoint, augment=False now"):
        fit(tiny_model(), loaders(False), epochs=1, device="cpu", progress=False, live_plot=False,
            checkpoint=path)


class Hostile:
    """Pickles into a call of os.system: what a malicious checkpoint could do on torch.load."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def write_truncated(path):
    run(epochs=1, checkpoint=path)
    path.write_bytes(path.read_bytes()[:1000])


CORRUPT = {
    "truncated": write_truncated,
    "random bytes": lambda path: path.write_bytes(os.urandom(4096)),
    "empty": lambda path: path.write_bytes(b""),
    "text": lambda path: path.write_text("not a checkpoint\n"),
    "a pickled list": lambda path: path.write_bytes(pickle.dumps([1, 2, 3], protocol=2)),
    "a state_dict": lambda path: torch.save(tiny_model().state_dict(), path),
    "an older format": lambda path: torch.save(dict(model=tiny_model().state_dict(), total_epochs=2), path),
    "hostile": lambda path: torch.save(Hostile(path.with_name("pwned")), path),
}


@pytest.mark.parametrize("kind", CORRUPT)
def test_an_unusable_checkpoint_names_the_file_and_the_ways_out(tmp_path, kind):
    path = tmp_path / "run.pt"
    CORRUPT[kind](path)
    with pytest.raises(CheckpointError) as error:
        run(epochs=2, checkpoint=path)
    message = str(error.value)
    assert str(path) in message and "Delete it to start over, or pass another checkpoint path" in message
    assert not (tmp_path / "pwned").exists()          # nothing in the file ran
    assert not path.with_name("run.pt.lock").exists()


def test_a_checkpoint_that_does_not_load_is_refused(finished):
    path, _ = finished
    state = torch.load(path, weights_only=True)
    del state["model"]["0.weight"]
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"does not fit this run .*0\.weight.*Delete it"):
        run(epochs=2, checkpoint=path)


def test_a_leftover_tmp_file_is_harmless(tmp_path):
    path = tmp_path / "run.pt"
    path.with_name("run.pt.tmp").write_bytes(b"half a checkpoint")   # a save killed half-way
    _, history = run(epochs=2, checkpoint=path)
    assert len(torch.load(path, weights_only=True)["history"]) == 2 == len(history.epochs)


# ---- nothing non-finite is saved; the divergence message is true ----------------------

class NaNAt(Batches):
    """Batches whose images are NaN at one (epoch, step)."""

    def __init__(self, x, y, batch_size, epoch, step):
        super().__init__(x, y, batch_size)
        self.bad = (epoch, step)

    def __iter__(self):
        for step, (images, labels) in enumerate(super().__iter__()):
            yield (images * float("nan") if (self.epoch, step) == self.bad else images), labels


def test_a_nan_between_two_loss_checks_is_never_saved(tmp_path):
    path = tmp_path / "run.pt"
    x, y = blobs()
    loader = NaNAt(x, y, 8, epoch=1, step=31)  # 32 steps, loss checked every 3rd: step 31 is not
    model = tiny_model()
    with pytest.raises(TrainingDiverged) as error:
        run(epochs=3, checkpoint=path, train_loader=loader, model=model)
    message = str(error.value)
    assert "the training loss became nan in epoch 2" in message
    assert f"The checkpoint {path} holds epoch 1, whose weights are finite" in message
    saved = torch.load(path, weights_only=True)
    assert len(saved["history"]) == 1
    for weights in (saved["model"], saved["best_model"]):
        assert all(torch.isfinite(t).all() for t in weights.values())
    assert "The model holds its best weights again (epoch 1" in message
    assert all(torch.equal(p, saved["best_model"][k]) for k, p in model.state_dict().items())
    assert not path.with_name("run.pt.lock").exists()


class PoisonGradient(torch.autograd.Function):
    """Identity forward; an infinite gradient backward when ``armed``: weights go
    non-finite while the loss stays finite."""

    armed = False

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * float("inf") if PoisonGradient.armed else grad


class PoisonOnLastStep(Batches):
    def __iter__(self):
        for step, batch in enumerate(super().__iter__()):
            PoisonGradient.armed = step == len(self) - 1
            yield batch
        PoisonGradient.armed = False


def test_non_finite_weights_with_a_finite_loss_are_never_saved(tmp_path):
    path = tmp_path / "run.pt"

    class LastLayerPoisoned(nn.Module):
        def __init__(self):
            super().__init__()
            self.features, self.head = nn.Sequential(*list(tiny_model())[:3]), nn.Linear(16, 2)

        def forward(self, x):
            return self.head(PoisonGradient.apply(self.features(x)))

    with pytest.raises(TrainingDiverged) as error:
        run(epochs=2, checkpoint=path, model=LastLayerPoisoned(), train_loader=PoisonOnLastStep(*blobs()))
    message = str(error.value)
    assert "the weights became non-finite in epoch 1, although the loss stayed finite" in message
    assert "No checkpoint was written: no epoch had finished" in message and not path.exists()


@pytest.mark.parametrize("checkpoint", [False, True])
def test_a_huge_learning_rate_stops_with_a_true_message(tmp_path, checkpoint):
    path = tmp_path / "run.pt" if checkpoint else None
    x, y = blobs()
    with pytest.raises(TrainingDiverged) as error:
        run(epochs=2, lr=1e6, optimizer="sgd", train_loader=Batches(x * 1e3, y), checkpoint=path)
    message = str(error.value)
    assert "in epoch 1" in message and "lower learning rate" in message
    if checkpoint:
        assert "No checkpoint was written" in message and not path.exists()
    else:
        assert "checkpoint" not in message


# ---- output paths are checked before training; one run per checkpoint ----------------

READ_ONLY = Path("/sys")   # a folder nobody may write to, root included: a stand-in for a read-only mount


def under_a_file(tmp: Path) -> Path:
    (tmp / "file").write_text("")
    return tmp / "file" / "run.pt"


@pytest.mark.parametrize("where, match", [
    (lambda tmp: tmp / "missing" / "run.pt", "is in a folder that does not exist; create"),
    (under_a_file, "is in a folder that does not exist"),
    (lambda tmp: tmp, "is a folder; give a file name"),
    (lambda tmp: READ_ONLY / "run.pt", "cannot be written: Permission denied in /sys"),
], ids=["missing-folder", "under-a-file", "a-folder", "read-only"])
def test_an_unwritable_checkpoint_is_refused_before_any_step(tmp_path, where, match):
    refused(ValueError, match, checkpoint=where(tmp_path))


@pytest.mark.parametrize("where, match", [
    (lambda tmp: tmp / "missing" / "h.json", "history file .* is in a folder that does not exist"),
    (lambda tmp: tmp, "is a folder"),
    (lambda tmp: READ_ONLY / "h.json", "cannot be written"),
], ids=["missing-folder", "a-folder", "read-only"])
def test_history_save_checks_its_path_and_replaces_atomically(tmp_path, where, match):
    _, history = run(epochs=1)
    with pytest.raises(ValueError, match=match):
        history.save(where(tmp_path))
    history.save(tmp_path / "h.json")
    assert History.load(tmp_path / "h.json") == history and os.listdir(tmp_path) == ["h.json"]


@pytest.mark.parametrize("text, match", [("{not json", "is not a history written by History.save"),
                                         ('{"model": "x"}', "is not a history written by History.save")],
                         ids=["broken-json", "other-keys"])
def test_a_broken_history_file_is_named(tmp_path, text, match):
    (tmp_path / "h.json").write_text(text)
    with pytest.raises(ValueError, match=match):
        History.load(tmp_path / "h.json")


def test_a_checkpoint_in_use_is_refused_and_a_dead_runs_lock_taken_over(tmp_path):
    path, lock = tmp_path / "run.pt", tmp_path / "run.pt.lock"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(f"{sleeper.pid} {socket.gethostname()}")
        refused(CheckpointError, rf"in use by another run \(process {sleeper.pid} on .*delete {lock}",
                checkpoint=path)
        assert lock.exists()                         # not ours to remove
    finally:
        sleeper.kill()
        sleeper.wait()
    _, history = run(epochs=1, checkpoint=path)     # its process is gone: the lock is stale
    assert len(history.epochs) == 1 and path.exists() and not lock.exists()

    lock.write_text("1 another-host")
    refused(CheckpointError, "in use by another run \\(process 1 on another-host\\)", checkpoint=path)


@pytest.mark.parametrize("ending", ["interrupt", "diverge", "finish"])
def test_the_lock_is_released_however_the_run_ends(tmp_path, ending):
    path = tmp_path / "run.pt"
    x, y = blobs()
    loaders = dict(interrupt=Batches(x, y, interrupt_in_epoch=1), diverge=Batches(x * float("nan"), y),
                   finish=Batches(x, y))
    try:
        run(epochs=1, checkpoint=path, train_loader=loaders[ending])
    except TrainingDiverged:
        assert ending == "diverge"
    assert not path.with_name("run.pt.lock").exists()


# ---- real processes: SIGKILL, a concurrent run, SIGINT ---------------------------------

SCRIPT = textwrap.dedent('''
    import json, sys, time
    import torch
    from torch import nn
    from cnnbook.train import fit


    def main(checkpoint, out, delay):
        """Train a small model with dropout for 4 epochs of 16 batches, each batch ``delay`` s late."""
        torch.set_num_threads(1)
        g = torch.Generator().manual_seed(0)
        y = torch.randint(0, 2, (512,), generator=g)
        x = torch.randn(512, 1, 8, 8, generator=g) + (y.float() * 2 - 1)[:, None, None, None]

        class Slow:
            dataset_name, batch_size, num_samples = "blobs", 32, 512
            def __init__(self, x, y):
                self.batches, self.epoch = list(zip(x.split(32), y.split(32))), 0
            def set_epoch(self, epoch):
                self.epoch = epoch
            def __len__(self):
                return len(self.batches)
            def __iter__(self):
                for batch in self.batches:
                    time.sleep(delay)
                    yield batch

        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Dropout(0.2), nn.Flatten(), nn.Linear(144, 2))
        history = fit(model, (Slow(x, y), Slow(x[:64], y[:64])), epochs=4, device="cpu", progress=False,
                      live_plot=False, checkpoint=checkpoint, optimizer="adamw")
        weights = torch.cat([p.detach().flatten() for p in model.parameters()]).tolist()
        json.dump(dict(losses=[e["train_loss"] for e in history.epochs], weights=weights), open(out, "w"))


    if __name__ == "__main__":
        main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
''')


def start(tmp_path: Path, delay: float) -> subprocess.Popen:
    """The script above in a process of its own, training with checkpoint run.pt."""
    (tmp_path / "train_script.py").write_text(SCRIPT)
    return subprocess.Popen([sys.executable, "train_script.py", "run.pt", "out.json", str(delay)],
                            cwd=tmp_path, env=dict(os.environ, OMP_NUM_THREADS="1"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(condition, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_run_killed_then_interrupted_resumes_bit_identically_and_is_never_shared(tmp_path):
    namespace, threads = {}, torch.get_num_threads()
    exec(SCRIPT, namespace)
    try:
        namespace["main"](None, tmp_path / "reference.json", 0)   # the same run, uninterrupted, here
    finally:
        torch.set_num_threads(threads)
    checkpoint, lock = tmp_path / "run.pt", tmp_path / "run.pt.lock"

    killed = start(tmp_path, 0.1)
    wait_for(checkpoint.exists, killed)                              # epoch 1 saved: now in epoch 2
    killed.kill()
    killed.communicate()
    assert lock.exists() and len(torch.load(checkpoint, weights_only=True)["history"]) == 1

    interrupted = start(tmp_path, 0.1)                              # takes the dead run's lock over
    saved_at = checkpoint.stat().st_mtime_ns
    try:
        wait_for(lambda: checkpoint.stat().st_mtime_ns != saved_at, interrupted)   # epoch 2 saved
        refused(CheckpointError, f"in use by another run \\(process {interrupted.pid} on",
                checkpoint=checkpoint)
    finally:
        interrupted.send_signal(signal.SIGINT)
    out, err = interrupted.communicate(timeout=240)
    assert interrupted.returncode == 0 and "Interrupted after 2 of 4 epochs: kept the best weights" in out, err
    assert not lock.exists() and len(torch.load(checkpoint, weights_only=True)["history"]) == 2

    resumed = start(tmp_path, 0)
    _, err = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, err[-3000:]
    reference, result = (json.loads((tmp_path / name).read_text()) for name in ("reference.json", "out.json"))
    assert result["losses"] == reference["losses"] and len(result["losses"]) == 4
    assert result["weights"] == reference["weights"] and not lock.exists()


@pytest.mark.parametrize("device", ["gpu", "cpu0"])
def test_fit_refuses_a_misspelt_device_before_any_work(device):
    from cnnbook.device import DeviceError
    with pytest.raises(DeviceError, match="is not a device"):
        fit(tiny_model(), "no-such-dataset", epochs=1, device=device)
