"""The trainer shared by the chapters and the command line: ``fit``.

One loop, small enough to read: SGD with momentum or AdamW, a one-cycle, cosine or
constant learning rate, optional label smoothing, the auxiliary classifiers of
GoogLeNet and Inception v3, mixed precision and channels_last on GPU, optional
``torch.compile``, a progress bar and live learning curves, a returned
:class:`History`, atomic per-epoch checkpoints that resume (after checking that they
belong to the same run) and that two runs cannot share, Ctrl-C that keeps the best
weights, and a clear stop, with nothing non-finite saved, when the loss or the
weights become NaN. Under ``torchrun`` the same loop trains with
DistributedDataParallel (see :mod:`cnnbook.distributed`).
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import socket
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import torch
from torch import nn
from torchvision.models import GoogLeNetOutputs as TorchvisionGoogLeNetOutputs
from torchvision.models import InceptionOutputs as TorchvisionInceptionOutputs
from tqdm.auto import tqdm

from . import data as datasets
from . import distributed
from .device import autocast, describe, prefers_channels_last
from .device import resolve as resolve_device
from .models.googlenet import GoogLeNetOutputs
from .models.inception import InceptionV3Outputs

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("onecycle", "cosine", "constant")
DEFAULT_LR = {"sgd": 0.05, "adamw": 2e-3}
DEFAULT_WEIGHT_DECAY = {"sgd": 5e-4, "adamw": 0.05}
QUICK_MAX_EPOCHS = 2
CHECKPOINT_FORMAT = 2

# The weight of each auxiliary classifier's loss, by the type of the training-mode output
# that carries the auxiliary logits. GoogLeNet: 0.3, the paper's (Szegedy et al. 2015,
# section 5). Inception v3: its paper (Szegedy et al. 2016) states no weight; 0.4 is the
# one of the authors' training code (TensorFlow's models/research/inception, ``loss``)
# and of PyTorch's fine-tuning tutorial.
AUX_WEIGHTS: dict[type, float] = {GoogLeNetOutputs: 0.3, TorchvisionGoogLeNetOutputs: 0.3,
                                  InceptionV3Outputs: 0.4, TorchvisionInceptionOutputs: 0.4}


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN or infinite."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: unreadable, written by another run, or in use."""


@dataclass
class History:
    """What ``fit`` returns: one record per epoch, plus what was trained where.

    A record holds ``train_loss`` (the main classifier's), ``train_acc``, ``test_loss``,
    ``test_acc``, ``lr``, ``seconds`` and ``images_per_s``; a model with auxiliary
    classifiers adds ``train_aux_loss``, one mean loss per auxiliary classifier.
    """

    model: str
    dataset: str
    device: str
    epochs: list[dict] = field(default_factory=list)
    interrupted: bool = False

    @property
    def final(self) -> dict:
        if not self.epochs:
            raise ValueError("no epoch has finished yet")
        return self.epochs[-1]

    @property
    def best_test_acc(self) -> float:
        return max(e["test_acc"] for e in self.epochs)

    @property
    def seconds(self) -> float:
        return sum(e["seconds"] for e in self.epochs)

    def summary_line(self) -> str:
        return (f"model={self.model} dataset={self.dataset} epochs={len(self.epochs)} "
                f"test_acc={self.final['test_acc']:.4f} seconds={self.seconds:.0f} device={self.device}")

    def plot(self, axes=None):
        from .plotting import learning_curves
        return learning_curves(self, axes=axes)

    def save(self, path: str | Path) -> None:
        """Write the history as JSON, atomically: an older file is replaced only by a whole one."""
        path = writable_path(path, "history file")
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> "History":
        try:
            return cls(**json.loads(Path(path).read_text()))
        except (ValueError, TypeError) as error:   # JSONDecodeError is a ValueError
            raise ValueError(f"{path} is not a history written by History.save ({error})") from None


def writable_path(path: str | Path, what: str) -> Path:
    """``path`` as a Path, after checking that a file can be written there (ValueError if not)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"the {what} {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise ValueError(f"the {what} {path} is in a folder that does not exist; create {path.parent} "
                         "or choose another path")
    try:
        tempfile.TemporaryFile(dir=path.parent).close()
    except OSError as error:
        raise ValueError(f"the {what} {path} cannot be written: {error.strerror} in {path.parent}; "
                         "choose a folder you can write to") from None
    return path


def _logits(outputs: torch.Tensor | tuple) -> torch.Tensor:
    """The main classifier's logits of a model's output (the first of a tuple)."""
    return outputs if isinstance(outputs, torch.Tensor) else outputs[0]


def evaluate(model: nn.Module, loader: Iterable, device: torch.device | None = None,
             amp: bool = True) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` over ``loader`` (over all
    processes' shards of it, when several processes train)."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    count = 0
    with torch.no_grad(), autocast(device, amp):
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = _logits(model(images))
            loss_sum += nn.functional.cross_entropy(logits.float(), labels, reduction="sum")
            correct += (logits.argmax(1) == labels).sum()
            count += len(labels)
    model.train(was_training)
    loss_sum, correct, count = distributed.all_sum(
        torch.stack([loss_sum, correct.float(), torch.tensor(float(count), device=device)])).tolist()
    return loss_sum / count, correct / count


def make_optimizer(model: nn.Module, name: str, lr: float, weight_decay: float,
                   momentum: float = 0.9) -> torch.optim.Optimizer:
    """SGD with Nesterov momentum or AdamW."""
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                               nesterov=True, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


def make_schedule(optimizer: torch.optim.Optimizer, name: str, lr: float,
                  total_steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    """A per-step learning-rate schedule: one-cycle, cosine decay or constant."""
    if name == "onecycle" and total_steps < 5:   # PyTorch's warm-up phase would last less than one step
        raise ValueError(f"the one-cycle schedule needs at least 5 steps, this run has {total_steps}: train for "
                         "more epochs or on smaller batches, or choose schedule='cosine' or 'constant'")
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps,
                                                   pct_start=0.25)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "constant":
        return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)
    raise ValueError(f"unknown schedule {name!r}; choose one of {SCHEDULES}")


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class _LiveCurves:
    """Learning curves redrawn in place in a notebook after every epoch."""

    def __init__(self):
        import matplotlib.pyplot as plt
        from IPython.display import display

        from .plotting import learning_curves
        self.draw = learning_curves
        self.figure, self.axes = plt.subplots(1, 2, figsize=(9, 3.2))
        plt.close(self.figure)  # shown only through the display handle
        self.handle = display(self.figure, display_id=True)

    def update(self, history: History) -> None:
        for ax in self.axes:
            ax.clear()
        self.draw(history, axes=self.axes)
        self.handle.update(self.figure)


# ---- the steps of fit, in the order it takes them ------------------------------------

def check_options(*, epochs: int, batch_size: int, optimizer: str, lr: float | None,
                  weight_decay: float | None, momentum: float, schedule: str, label_smoothing: float,
                  aux_weight: float | None) -> None:
    """ValueError for an option of ``fit`` that cannot work (the command line checks them before loading data)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {OPTIMIZERS}")
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {SCHEDULES}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number, at least 1, got {value!r}")
    for name, value, zero_allowed in (("lr", lr, False), ("weight_decay", weight_decay, True),
                                      ("label_smoothing", label_smoothing, True),
                                      ("aux_weight", aux_weight, True)):
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)
                                      and (value >= 0 if zero_allowed else value > 0)):
            raise ValueError(f"{name} must be a finite number {'>= 0' if zero_allowed else '> 0'}, got {value!r}")
    if label_smoothing >= 1:
        raise ValueError(f"label_smoothing must be below 1 (1 makes every target uniform), got {label_smoothing}")
    if optimizer == "sgd" and not (isinstance(momentum, (int, float)) and 0 < momentum < 1):
        raise ValueError(f"momentum must be between 0 and 1 (exclusive) for Nesterov SGD, got {momentum!r}")


def _loaders(data: str | tuple[Iterable, Iterable], batch_size: int, device: torch.device, augment: bool,
             seed: int) -> tuple[Iterable, Iterable, str]:
    """The train and test loaders and the dataset's name, from a dataset name or a loader pair."""
    if isinstance(data, str):
        train_loader, test_loader = datasets.loaders(data, batch_size, device=device, augment=augment,
                                                     seed=seed, rank=distributed.rank(),
                                                     world_size=distributed.world_size())
        return train_loader, test_loader, data
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"data must be a dataset name such as 'fashion-mnist' or a (train_loader, test_loader) "
                        f"pair, got {type(data).__name__}")
    for loader, which in zip(data, ("train", "test")):
        if hasattr(loader, "__len__") and len(loader) == 0:
            raise ValueError(f"the {which} loader yields no batches: is its dataset empty?")
    return data[0], data[1], getattr(data[0], "dataset_name", "custom")


def _settings(model: nn.Module, name: str, dataset: str, train_loader: Iterable, **options) -> dict:
    """Everything a checkpoint must share with the run that resumes it."""
    examples = getattr(train_loader, "num_samples", None)
    if examples is None and hasattr(train_loader, "dataset"):
        examples = len(train_loader.dataset)
    return dict(model=name, parameters={k: list(v.shape) for k, v in model.state_dict().items()},
                dataset=dataset, examples=examples, batch_size=getattr(train_loader, "batch_size", None),
                steps_per_epoch=len(train_loader), augment=getattr(train_loader, "augment", None),
                world_size=distributed.world_size(), **options)


def _differences(saved: dict, now: dict) -> list[str]:
    """What differs between two runs' settings, one line each."""
    lines = [f"{key}={saved.get(key)!r} in the checkpoint, {key}={value!r} now"
             for key, value in now.items() if key != "parameters" and saved.get(key) != value]
    old, new = saved.get("parameters", {}), now["parameters"]
    changed = [k for k in old.keys() | new.keys() if old.get(k) != new.get(k)]
    if changed:
        first = min(changed)
        old_shape, new_shape = (tuple(shapes[first]) if first in shapes else "absent" for shapes in (old, new))
        lines.append(f"the model's tensors differ: {len(changed)} of them, e.g. {first}: "
                     f"{old_shape} in the checkpoint, {new_shape} now")
    return lines


def _read_checkpoint(path: Path) -> dict:
    """The checkpoint's contents (tensors only, no code: a hostile file cannot run anything)."""
    advice = "Delete it to start over, or pass another checkpoint path."
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:   # torch, zipfile and pickle raise a dozen kinds for a damaged file
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise CheckpointError(f"the checkpoint {path} cannot be read ({reason}): the file is damaged or not a "
                              f"checkpoint. {advice}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint of this version of cnnbook's fit (format "
                              f"{CHECKPOINT_FORMAT}). {advice}")
    return state


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # it exists, under another user
        pass
    return True


@contextlib.contextmanager
def _lock(checkpoint: Path | None) -> Iterator[None]:
    """Hold ``<checkpoint>.lock`` (this process's id and host) while training, so that a
    second run on the same checkpoint is refused; a lock whose process has died on this
    host (killed, say) is taken over."""
    if checkpoint is None:
        yield
        return
    lock = checkpoint.with_name(checkpoint.name + ".lock")
    me = f"{os.getpid()} {socket.gethostname()}"
    while True:
        try:
            with open(lock, "x") as file:
                file.write(me)
            break
        except FileExistsError:
            try:
                pid, _, host = lock.read_text().partition(" ")
            except FileNotFoundError:   # released in the meantime
                continue
            if host != socket.gethostname() or (pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid))):
                raise CheckpointError(
                    f"the checkpoint {checkpoint} is in use by another run (process {pid} on {host or '?'}): wait "
                    f"for it to end or pass another checkpoint path. If no such run exists, delete {lock}.") from None
            lock.unlink(missing_ok=True)   # left by a run that was killed
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _finite_weights(model: nn.Module) -> bool:
    tensors = [t for t in model.state_dict().values() if t.is_floating_point()]
    return bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all()) if tensors else True


def _aux_weight(outputs: tuple, aux_weight: float | None) -> float:
    """The weight of each auxiliary classifier's loss for this model's outputs."""
    if aux_weight is not None:
        return aux_weight
    if type(outputs) not in AUX_WEIGHTS:
        raise TypeError(f"the model returned a {type(outputs).__name__} in training mode; fit knows the "
                        "auxiliary-loss weights of GoogLeNet and Inception v3 only: pass aux_weight=..., "
                        "or build the model without auxiliary classifiers")
    return AUX_WEIGHTS[type(outputs)]


def _losses(outputs: torch.Tensor | tuple, labels: torch.Tensor, criterion: nn.Module,
            aux_weight: float | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(loss to minimise, main classifier's loss, auxiliary classifiers' losses or None).

    With auxiliary classifiers: loss(logits) + weight x (sum of the auxiliary losses)."""
    if isinstance(outputs, torch.Tensor):
        loss = criterion(outputs.float(), labels)
        return loss, loss, None
    main = criterion(outputs[0].float(), labels)
    aux = torch.stack([criterion(logits.float(), labels) for logits in outputs[1:]])
    return main + _aux_weight(outputs, aux_weight) * aux.sum(), main, aux


class _Trainer:
    """What one run of ``fit`` carries from step to step: the model, its optimizer,
    schedule and loss, and the best weights so far."""

    def __init__(self, model: nn.Module, device: torch.device, *, optimizer: str, lr: float,
                 weight_decay: float, momentum: float, schedule: str, total_steps: int,
                 label_smoothing: float, aux_weight: float | None, amp: bool, channels_last: bool | None,
                 compile: bool):
        model.to(device)
        if channels_last if channels_last is not None else prefers_channels_last(device):
            model.to(memory_format=torch.channels_last)
        step_model = distributed.wrap(model, device)
        self.model, self.device, self.amp, self.aux_weight = model, device, amp, aux_weight
        self.step_model = torch.compile(step_model) if compile else step_model
        self.optimizer = make_optimizer(model, optimizer, lr, weight_decay, momentum)
        self.scheduler = make_schedule(self.optimizer, schedule, lr, total_steps)
        self.scaler = torch.amp.GradScaler(device.type, enabled=amp and device.type == "cuda"
                                           and not torch.cuda.is_bf16_supported())
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        self.best_state, self.best_acc, self.best_epoch = None, -1.0, 0

    def train_epoch(self, loader: Iterable, epoch: int, bar: tqdm) -> dict:
        """One pass over ``loader``; its training figures. TrainingDiverged as soon as the
        loss is seen non-finite (every tenth of the epoch), or the weights are at its end."""
        device, started = self.device, time.perf_counter()
        self.model.train()
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        aux_sum, seen, check_every = None, 0, max(1, len(loader) // 10)
        for step, (images, labels) in enumerate(loader):
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            with autocast(device, self.amp):
                outputs = self.step_model(images)
                loss, main_loss, aux_losses = _losses(outputs, labels, self.criterion, self.aux_weight)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.scheduler.step()
            loss_sum += main_loss.detach() * len(labels)
            correct += (_logits(outputs).argmax(1) == labels).sum()
            if aux_losses is not None:
                aux_sum = aux_losses.detach() * len(labels) + (0 if aux_sum is None else aux_sum)
            seen += len(labels)
            if step % check_every == 0:
                total = distributed.all_sum(loss_sum if aux_sum is None else loss_sum + aux_sum.sum())
                _stop_if_not_finite(total.item(), epoch, step)
            bar.update(1)
        train_seconds = time.perf_counter() - started
        sums = [loss_sum, correct.float(), torch.tensor(float(seen), device=device)]
        sums = distributed.all_sum(torch.stack(sums + ([] if aux_sum is None else list(aux_sum)))).tolist()
        _stop_if_not_finite(math.fsum(sums), epoch, len(loader) - 1)
        if not _finite_weights(self.model):
            raise TrainingDiverged(f"the weights became non-finite in epoch {epoch + 1}, although the loss stayed "
                                   f"finite: the last steps' gradients overflowed.{_ADVICE}")
        record = dict(epoch=epoch + 1, train_loss=sums[0] / sums[2], train_acc=sums[1] / sums[2])
        if aux_sum is not None:
            record["train_aux_loss"] = [s / sums[2] for s in sums[3:]]
        return record | dict(lr=self.optimizer.param_groups[0]["lr"], images_per_s=sums[2] / train_seconds)

    def keep_if_best(self, record: dict) -> None:
        if record["test_acc"] > self.best_acc:
            self.best_acc, self.best_epoch = record["test_acc"], record["epoch"]
            self.best_state = copy.deepcopy(self.model.state_dict())

    def state(self, history: History, settings: dict) -> dict:
        """What a checkpoint holds: enough to continue the run exactly where it is."""
        return dict(format=CHECKPOINT_FORMAT, settings=settings, model=self.model.state_dict(),
                    optimizer=self.optimizer.state_dict(), scheduler=self.scheduler.state_dict(),
                    scaler=self.scaler.state_dict(), rng=torch.get_rng_state(),
                    cuda_rng=torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
                    history=history.epochs, best_model=self.best_state, best_acc=self.best_acc,
                    best_epoch=self.best_epoch)

    def resume(self, path: Path, settings: dict, history: History) -> None:
        """Continue the run saved in ``path``, after checking it is this run (CheckpointError if not)."""
        state = _read_checkpoint(path)
        differences = _differences(state.get("settings", {}), settings)
        if differences:
            raise CheckpointError(
                f"the checkpoint {path} was written by a different run:\n" + "".join(f"  - {d}\n" for d in differences)
                + "Either resume it with the settings it was written with, or start a new run: delete "
                  f"{path} or pass another checkpoint path.")
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            if state["scaler"]:
                self.scaler.load_state_dict(state["scaler"])
            torch.set_rng_state(state["rng"])
            if state["cuda_rng"] and self.device.type == "cuda":
                torch.cuda.set_rng_state_all(state["cuda_rng"])
            history.epochs = state["history"]
            self.best_state, self.best_acc = state["best_model"], state["best_acc"]
            self.best_epoch = state["best_epoch"]
        except (KeyError, RuntimeError, ValueError, TypeError) as error:
            raise CheckpointError(f"the checkpoint {path} does not fit this run ({' '.join(str(error).split())}). "
                                  "Delete it to start over, or pass another checkpoint path.") from None

    def restore_best(self) -> str:
        """Put the best weights back into the model and say which they are ("" if there are none yet)."""
        if self.best_state is None:
            return ""
        self.model.load_state_dict(self.best_state)
        return f"epoch {self.best_epoch}, test_acc={self.best_acc:.4f}"


_ADVICE = (" Try a lower learning rate, check that the inputs are normalised and finite, or turn mixed "
           "precision off (amp=False).")


def _stop_if_not_finite(loss: float, epoch: int, step: int) -> None:
    if not math.isfinite(loss):
        raise TrainingDiverged(f"the training loss became {loss} in epoch {epoch + 1} (seen at step {step + 1})."
                               + _ADVICE)


def _save_atomically(state: dict, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _model_name(model: nn.Module) -> str:
    spec = getattr(model, "input_spec", None)
    return spec.model_name if spec else type(model).__name__.lower()


def _progress(history: History, epochs: int, steps_per_epoch: int, bar: bool,
              curves: bool) -> tuple[_LiveCurves | None, tqdm]:
    """The live learning curves (or None) and the progress bar, showing the epochs done so far."""
    live = _LiveCurves() if curves else None
    if live and history.epochs:
        live.update(history)
    done = len(history.epochs)
    return live, tqdm(total=epochs * steps_per_epoch, initial=done * steps_per_epoch, desc=history.model,
                      unit="batch", disable=not bar or done == epochs, mininterval=0.5, leave=True)


def _interrupted(trainer: _Trainer, history: History, epochs: int, path: Path | None) -> History:
    """Ctrl-C: the best weights back in the model, and a word on what was kept."""
    history.interrupted = True
    best = trainer.restore_best()
    kept = f"kept the best weights ({best})" if best else "no epoch had finished, so the weights are mid-epoch"
    resume = f"; run again with checkpoint={str(path)!r} to resume" if path else ""
    print(f"Interrupted after {len(history.epochs)} of {epochs} epochs: {kept}{resume}.")
    return history


def _after_divergence(trainer: _Trainer, history: History, path: Path | None) -> str:
    """What the model and the checkpoint hold after training diverged, truthfully."""
    best = trainer.restore_best()
    model = (f"The model holds its best weights again ({best})." if best else
             "No epoch had finished, so the model's weights are mid-epoch and may be non-finite.")
    if path is None:
        return model
    if not history.epochs:
        return f"{model} No checkpoint was written: no epoch had finished."
    return (f"{model} The checkpoint {path} holds epoch {len(history.epochs)}, whose weights are finite; as "
            "resuming needs the same settings, delete it or pass another path to train with new ones.")


def fit(model: nn.Module, data: str | tuple[Iterable, Iterable], *, epochs: int = 10,
        batch_size: int = 256, optimizer: str = "sgd", lr: float | None = None,
        weight_decay: float | None = None, momentum: float = 0.9, schedule: str = "onecycle",
        label_smoothing: float = 0.0, aux_weight: float | None = None, augment: bool = True,
        amp: bool = True, channels_last: bool | None = None, compile: bool = False,
        checkpoint: str | Path | None = None, seed: int = 0, device: torch.device | str | None = None,
        progress: bool = True, live_plot: bool | None = None, name: str | None = None) -> History:
    """Train ``model`` on ``data`` and return its :class:`History`.

    ``data`` is a dataset name (``"fashion-mnist"``, ``"mnist"``, ``"cifar10"``) or a
    ``(train_loader, test_loader)`` pair. ``amp`` and ``channels_last`` take effect on CUDA
    only. A model that returns auxiliary logits in training mode (GoogLeNet, Inception v3)
    is trained on loss(logits) + ``aux_weight`` x the sum of the auxiliary losses; None
    takes its paper's weight (``AUX_WEIGHTS``: 0.3 for GoogLeNet, 0.4 for Inception v3).

    ``seed`` seeds PyTorch's random numbers at the start: the order and augmentation of
    the batches when ``data`` is a name, and dropout. It does not cover the model's
    initial weights, drawn when the model was built: call ``torch.manual_seed`` before
    building it (the command line does) for a run that repeats exactly.

    With ``checkpoint``, the state after every epoch is written atomically, and a later
    call with the same path resumes from it, after checking that it is the same run
    (model, dataset, batch size, optimizer, schedule, epochs and the other settings);
    otherwise CheckpointError before any step. A second run on a checkpoint in use is
    refused. Non-finite weights are never saved: training stops with TrainingDiverged,
    leaving the best weights in the model. Under torchrun, each process trains on its
    shard of the data and only rank 0 shows progress, prints and writes the checkpoint;
    every process returns the same History. In quick mode (``CNNBOOK_QUICK=1``) at most
    two epochs run, on the data subsets.
    """
    if not isinstance(model, nn.Module) or not any(p.requires_grad for p in model.parameters()):
        raise TypeError(f"model must be a torch.nn.Module with trainable parameters, got {type(model).__name__}")
    check_options(epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, weight_decay=weight_decay,
                  momentum=momentum, schedule=schedule, label_smoothing=label_smoothing,
                  aux_weight=aux_weight)
    epochs = min(epochs, QUICK_MAX_EPOCHS) if datasets.quick_mode() else epochs
    device = resolve_device(device)
    main = distributed.is_main()
    path = Path(checkpoint).expanduser() if checkpoint else None
    if path and main:
        writable_path(path, "checkpoint")
    torch.manual_seed(seed)
    train_loader, test_loader, dataset_name = _loaders(data, batch_size, device, augment, seed)
    name = name or _model_name(model)
    options = dict(epochs=epochs, optimizer=optimizer, lr=DEFAULT_LR[optimizer] if lr is None else lr,
                   weight_decay=DEFAULT_WEIGHT_DECAY[optimizer] if weight_decay is None else weight_decay,
                   momentum=momentum, schedule=schedule, label_smoothing=label_smoothing,
                   aux_weight=aux_weight)
    settings = _settings(model, name, dataset_name, train_loader, seed=seed, **options)
    del options["epochs"]
    trainer = _Trainer(model, device, total_steps=epochs * len(train_loader), amp=amp,
                       channels_last=channels_last, compile=compile, **options)
    history = History(name, dataset_name, describe(device))
    with _lock(path if main else None):
        if path and path.exists():
            trainer.resume(path, settings, history)
        live, bar = _progress(history, epochs, len(train_loader), progress and main,
                              main and (live_plot if live_plot is not None else _in_notebook()))
        try:
            for epoch in range(len(history.epochs), epochs):
                started = time.perf_counter()
                record = trainer.train_epoch(train_loader, epoch, bar)
                record["test_loss"], record["test_acc"] = evaluate(model, test_loader, device, amp)
                history.epochs.append(record | dict(seconds=time.perf_counter() - started))
                trainer.keep_if_best(record)
                bar.set_postfix(loss=f"{record['train_loss']:.3f}", test_acc=f"{record['test_acc']:.4f}")
                if path and main:
                    _save_atomically(trainer.state(history, settings), path)
                if live:
                    live.update(history)
        except KeyboardInterrupt:
            return _interrupted(trainer, history, epochs, path)
        except TrainingDiverged as error:
            raise TrainingDiverged(f"{error} {_after_divergence(trainer, history, path)}") from None
        finally:
            bar.close()
    if main:
        print(history.summary_line())
    return history
