"""Fashion-MNIST, MNIST and CIFAR-10, held as tensors on the training device; and
ImageNet-style folders of images, read from disk.

``load`` reads a dataset through torchvision's own class (``FashionMNIST``,
``MNIST``, ``CIFAR10``) and returns uint8 images and int64 labels. A ``root`` argument is
the only place it looks; without one it looks, in order, in ``$CNNBOOK_DATA``,
in known local copies (Debian's ``dataset-fashion-mnist`` package) and in the
cache (``$CNNBOOK_CACHE`` or ``~/.cache/cnnbook``), and only then lets
torchvision download into the cache. It never makes up data: when nothing is
found it raises ``DatasetNotFoundError`` saying where it looked and how to get
the files, and a damaged file gives a ``DatasetFileError`` that names it.
Gzipped files are unzipped once into the cache, keyed on their content.

``DeviceLoader`` moves a whole dataset to the device once and yields shuffled,
augmented, normalised batches with a few tensor operations per batch, so that
feeding the network never costs more than a sliver of an epoch.

``folder_loaders`` reads a dataset too large for memory, such as ImageNet, from a
folder in torchvision's ImageFolder layout, decoding and augmenting in worker processes.
"""

from __future__ import annotations

import difflib
import functools
import gzip
import hashlib
import math
import os
import re
import shutil
import struct
import warnings
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, DistributedSampler, default_collate
from torchvision import datasets, transforms
from torchvision.datasets.utils import check_integrity

from .device import resolve

QUICK_TRAIN, QUICK_TEST = 2048, 1024  # images kept in quick mode (CNNBOOK_QUICK=1)


@dataclass(frozen=True)
class DatasetInfo:
    """Facts about one dataset; ``mean``/``std`` are per channel over its training set."""

    torchvision_class: type
    channels: int
    size: int
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    crop_padding: int           # random-crop padding used for augmentation
    flip: bool                  # whether mirrored images are still valid examples
    apt_package: str | None = None


DATASETS: dict[str, DatasetInfo] = {
    "fashion-mnist": DatasetInfo(
        datasets.FashionMNIST, 1, 28,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        (0.2860,), (0.3530,), crop_padding=2, flip=True, apt_package="dataset-fashion-mnist"),
    "mnist": DatasetInfo(
        datasets.MNIST, 1, 28, tuple("0123456789"),
        (0.1307,), (0.3081,), crop_padding=2, flip=False),   # a mirrored 2 is no digit
    "cifar10": DatasetInfo(
        datasets.CIFAR10, 3, 32,
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), crop_padding=4, flip=True),
}

# Folders where a system package installs a dataset (flat, gzipped IDX files).
LOCAL_COPIES: dict[str, list[Path]] = {
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
    "mnist": [Path("/usr/share/datasets/mnist")],
}


class DatasetNotFoundError(FileNotFoundError):
    """The dataset is nowhere on this machine and could not be downloaded."""


class DatasetFileError(ValueError):
    """A dataset file is there but cannot be read: truncated, damaged or of the wrong kind."""


QUICK_ON, QUICK_OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def quick_mode() -> bool:
    """True when ``CNNBOOK_QUICK`` is 1, true, yes or on (any case): train on small subsets.

    0, false, no, off, empty or unset mean full mode; anything else is a ValueError.
    """
    value = os.environ.get("CNNBOOK_QUICK", "")
    if value.strip().lower() in QUICK_ON + QUICK_OFF:
        return value.strip().lower() in QUICK_ON
    raise ValueError(f"CNNBOOK_QUICK={value!r} means neither quick mode ({', '.join(QUICK_ON)}) nor full mode "
                     f"({', '.join(QUICK_OFF[:-1])} or empty); set it to one of those, or unset it.")


def dataset_info(name: str) -> DatasetInfo:
    """The facts about dataset ``name``; ValueError for an unknown name."""
    if name not in DATASETS:
        close = difflib.get_close_matches(str(name), DATASETS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown dataset {name!r}; known: {', '.join(DATASETS)}.{hint}")
    return DATASETS[name]


def class_names(name: str) -> list[str]:
    """The class names of dataset ``name``, in label order."""
    return list(dataset_info(name).classes)


def cache_dir() -> Path:
    """Where downloads and prepared copies go: ``$CNNBOOK_CACHE`` or ``~/.cache/cnnbook``."""
    return Path(os.environ.get("CNNBOOK_CACHE") or Path.home() / ".cache" / "cnnbook").expanduser()


def _layout(cls: type) -> tuple[Path, list[str]]:
    """The folder under root where torchvision's class reads its files, and their names."""
    if issubclass(cls, datasets.MNIST):
        return Path(cls.__name__, "raw"), [Path(file).stem for file, _ in cls.resources]   # unzipped
    return Path(cls.base_folder), [file for file,
                                   _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]


def _fingerprint(path: Path) -> str:
    """The size and SHA-256 of a file's content: what its prepared copy is keyed on."""
    status = path.stat()
    return _content_hash(str(path.resolve()), status.st_size, status.st_mtime_ns,
                         status.st_ctime_ns, status.st_ino)


@functools.lru_cache(maxsize=64)
def _content_hash(path: str, size: int, *unchanged_since: int) -> str:
    """Hashed once per process for each state of the file (its size, times and inode)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return f"{size} {digest.hexdigest()}"


def _in_cache(path: Path) -> bool:
    return cache_dir().resolve() in path.resolve().parents


def _stamp(target: Path) -> Path:
    """The file beside a prepared copy that records its source: path, size and hash, and the copy's size."""
    return target.with_name(f"{target.name}.source")


def _is_running(pid: int) -> bool:
    """Whether process ``pid`` is alive (a part file of a dead one is left over, not in progress)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's process
        return True
    return True


def _copy(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target``, gunzipping a .gz; skipped when ``target`` was made from the same content.

    The copy is written to ``target.<pid>.part`` and renamed when complete; a
    failed copy removes its part file, and part files left by processes that
    died are removed here.
    """
    record = f"{source.resolve()}\n{_fingerprint(source)}\n"
    stamp = _stamp(target)
    if target.is_file() and stamp.is_file() and stamp.read_text() == record + f"{target.stat().st_size}\n":
        return
    for left in target.parent.glob(f"{target.name}.*.part"):
        pid = left.name.split(".")[-2]
        if pid.isdigit() and not _is_running(int(pid)):
            left.unlink(missing_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")   # processes may prepare it at once
    try:
        with (gzip.open if source.suffix == ".gz" else open)(source, "rb") as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(partial, target)
        stamp.write_text(record + f"{target.stat().st_size}\n")
    except (OSError, EOFError,
            zlib.error) as error:   # a damaged .gz gives BadGzipFile (an OSError) or EOFError
        advice = (f"If {source} is damaged (truncated, or not what its name says), replace it with an intact "
                  "copy; if the cache is full or read-only, set CNNBOOK_CACHE to another folder.")
        if _in_cache(source) and isinstance(error, (gzip.BadGzipFile, EOFError, zlib.error)):
            source.unlink(missing_ok=True)   # our own download, cut short: fetch it again next time
            advice = "It was a partial or damaged download and is now deleted: load again to download it again."
        raise DatasetFileError(f"could not prepare {target} from {source}: {error}. {advice}") from error
    finally:
        partial.unlink(missing_ok=True)


def _root_in(folder: Path, cls: type) -> Path | None:
    """A root for ``cls`` holding the files found in ``folder``, or None.

    ``folder`` may hold them in torchvision's layout or flat, gzipped or not;
    anything else is copied once (unzipped) into that layout under the cache.
    """
    subfolder, files = _layout(cls)
    if all((folder / subfolder / file).is_file() for file in files):
        return folder
    for place in (folder / subfolder, folder):
        sources = [next((p for p in (place / f, place / f"{f}.gz") if p.is_file()), None) for f in files]
        if all(sources):
            root = cache_dir() / "prepared" / re.sub(r"[^\w.-]+", "_", str(place.resolve())).strip("_")
            (root / subfolder).mkdir(parents=True, exist_ok=True)
            for source, file in zip(sources, files):
                _copy(source, root / subfolder / file)
            return root
    return None


def _not_found(name: str, tried: list[str]) -> DatasetNotFoundError:
    info = dataset_info(name)
    ways = [f"put its files in a folder and set CNNBOOK_DATA to that folder "
            f"(files: {', '.join(_layout(info.torchvision_class)[1])}, gzipped or not)"]
    if info.apt_package:
        ways.insert(0, f"install it: sudo apt-get install {info.apt_package}")
    ways.append(f"run once with internet access so torchvision downloads it into {cache_dir()}")
    return DatasetNotFoundError(
        f"{name} not found. Tried:\n" + "".join(f"  - {place}\n" for place in tried)
        + "To get it, " + "; or ".join(ways) + ".")


def _given_root(name: str, root: str | os.PathLike, cls: type) -> Path:
    """The root to read ``name`` from when the caller named a folder: that folder, or an error."""
    folder = Path(root).expanduser()
    found = _root_in(folder, cls) if str(root) else None
    if found:
        return found
    why = "is empty" if not str(root) else "does not exist" if not folder.exists() else f"does not hold {name}"
    raise DatasetNotFoundError(
        f"the data root {str(root)!r} {why}. It must hold {', '.join(_layout(cls)[1])} (gzipped or not), flat "
        f"or in {_layout(cls)[0]}/. Correct the path, or leave it out (no --data-root) to use $CNNBOOK_DATA, "
        "the known local copies or the cache.")


def _find(name: str, root: str | os.PathLike | None, download: bool | None) -> Path:
    """The root folder to give torchvision's class for ``name``, downloading if needed and allowed.

    A ``root`` given by the caller is the only place looked at: a typo must not
    silently train on another copy. So is a ``$CNNBOOK_DATA`` that does not exist.
    """
    cls = dataset_info(name).torchvision_class
    if root is not None:
        return _given_root(name, root, cls)
    variable = os.environ.get("CNNBOOK_DATA")
    if variable and not Path(variable).expanduser().is_dir():
        raise DatasetNotFoundError(f"CNNBOOK_DATA={variable!r} is not a folder: correct it, or unset it "
                                   "to use the known local copies and the cache.")
    candidates = [(variable, "CNNBOOK_DATA")]
    candidates += [(folder, "known local copy") for folder in LOCAL_COPIES.get(name, [])]
    candidates.append((cache_dir(), "cache"))
    tried = []
    for folder, why in candidates:
        if folder:
            found = _root_in(Path(folder).expanduser(), cls)
            if found:
                return found
            tried.append(f"{folder} ({why})")
    if download is False:
        tried.append("no download (download=False)")
        raise _not_found(name, tried)
    try:
        cls(str(cache_dir()), train=True, download=True)
    except (RuntimeError, OSError) as error:   # URLError is an OSError
        tried.append(f"download by torchvision into {cache_dir()}: {' '.join(str(error).split())}")
        raise _not_found(name, tried) from error
    return cache_dir()


def _fix(path: Path) -> str:
    """What to do about a damaged dataset file ``path``."""
    stamp = _stamp(path)
    if stamp.is_file():
        source = stamp.read_text().splitlines()[0]
        return (f"It was prepared from {source}: if that is damaged, replace it with an intact copy (the "
                f"prepared copy is remade when its source changes); if not, delete {path} to have it remade.")
    if _in_cache(path):
        return "It is a downloaded copy in the cache: delete it and load again to download it again."
    return "Replace it with an intact copy."


def _check_idx(path: Path, ndim: int) -> tuple[int, ...]:
    """The dimensions in the header of IDX file ``path`` (unsigned bytes, ``ndim`` axes), checked
    against the file's size; a DatasetFileError naming the file otherwise."""
    with open(path, "rb") as file:
        header = file.read(4 + 4 * ndim)
    magic = 0x0800 + ndim   # 0x00 0x00, 0x08 for unsigned bytes, the number of axes
    if len(header) < 4 or struct.unpack(">I", header[:4])[0] != magic:
        raise DatasetFileError(f"{path} is not an IDX file of {ndim}-D unsigned bytes: it starts with "
                               f"{header[:4].hex() or 'nothing'} instead of {magic:08x}. {_fix(path)}")
    dims = struct.unpack(f">{ndim}I", header[4:]) if len(header) == 4 + 4 * ndim else ()
    expected = 4 + 4 * ndim + math.prod(dims) if dims else None
    if path.stat().st_size != expected:
        shape = "x".join(map(str, dims)) or "(cut off)"
        raise DatasetFileError(f"{path} has {path.stat().st_size} bytes but its header says {shape}, which takes "
                               f"{expected or 'more'} bytes: the file is truncated or damaged. {_fix(path)}")
    return dims


def _check_files(name: str, root: Path, train: bool) -> None:
    """Check the files torchvision's class will read, so that a damaged one is named."""
    info = dataset_info(name)
    cls = info.torchvision_class
    if issubclass(cls, datasets.MNIST):
        folder, prefix = root / _layout(cls)[0], "train" if train else "t10k"
        images = _check_idx(folder / f"{prefix}-images-idx3-ubyte", 3)
        labels = _check_idx(folder / f"{prefix}-labels-idx1-ubyte", 1)
        if images[1:] != (info.size, info.size) or images[0] != labels[0]:
            raise DatasetFileError(f"{folder}: {prefix}-images-idx3-ubyte holds {'x'.join(map(str, images))} images "
                                   f"and {prefix}-labels-idx1-ubyte {labels[0]} labels; {name} needs N x "
                                   f"{info.size}x{info.size} images and N labels. Replace the files with {name}'s.")
    else:
        damaged = [root / cls.base_folder / file for file, md5 in (cls.train_list if train else cls.test_list)
                   + [(cls.meta["filename"],
                       cls.meta["md5"])] if not check_integrity(root / cls.base_folder / file, md5)]
        if damaged:
            raise DatasetFileError(f"{', '.join(map(str, damaged))}: not the published {name} file (MD5 "
                                   f"differs: corrupted or a different version). {_fix(damaged[0])}")


@functools.lru_cache(maxsize=8)
def _read(name: str, root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    _check_files(name, root, train)
    dataset = dataset_info(name).torchvision_class(str(root), train=train)
    images = torch.as_tensor(dataset.data)     # MNIST: (N, H, W) tensor; CIFAR-10: (N, H, W, C) array
    images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)
    return images.contiguous(), torch.as_tensor(dataset.targets, dtype=torch.int64)


def load(name: str, train: bool = True, root: str | os.PathLike | None = None,
         download: bool | None = None, pad: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Images as uint8 ``(N, C, H, W)`` and labels as int64 ``(N,)``, on the CPU.

    Looks in ``root`` only when given (a DatasetNotFoundError if the dataset is
    not there), else in ``$CNNBOOK_DATA``, the known local copies and the cache,
    in that order, and reads the first complete copy with torchvision's class
    after checking its files (a DatasetFileError names a damaged one).

    ``pad`` adds that many zero pixels on every side (LeNet-5 wants 28x28 digits
    at 32x32: ``pad=2``). ``download=False`` never downloads; None or True
    downloads into the cache when no copy is found. Results are cached in the
    process and shared between calls: do not modify them in place.
    """
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    images, labels = _read(name, _find(name, root, download), train)
    return (F.pad(images, (pad,) * 4) if pad else images), labels


def _standardise(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    return (images.float() / 255 - mean) / std


def _channel_stat(values: float | Sequence[float], device: torch.device) -> torch.Tensor:
    return torch.as_tensor(values, dtype=torch.float32, device=device).reshape(-1, 1, 1)


def normalize(images: torch.Tensor, name: str) -> torch.Tensor:
    """uint8 images as float, standardised with the dataset's mean and std, as the loaders yield them."""
    info = dataset_info(name)
    return _standardise(images, _channel_stat(info.mean, images.device),
                        _channel_stat(info.std, images.device))


def denormalize(images: torch.Tensor, name: str) -> torch.Tensor:
    """Undo ``normalize``: floats in [0, 1], ready for ``plt.imshow`` after ``.permute(1, 2, 0)``."""
    info = dataset_info(name)
    mean, std = _channel_stat(info.mean, images.device), _channel_stat(info.std, images.device)
    return (images * std + mean).clamp(0, 1)


def _crop_and_flip(images: torch.Tensor, padding: int, shifts: torch.Tensor,
                   flips: torch.Tensor) -> torch.Tensor:
    """Crop each image from a zero-padded copy at its own ``shifts`` (rows, cols) offset,
    mirrored where ``flips`` is True: a single gather over the batch."""
    n, c, h, w = images.shape
    padded = F.pad(images, (padding,) * 4)
    arange = functools.partial(torch.arange, device=images.device)
    rows = shifts[:, :1] + arange(h)                                              # (N, H)
    cols = shifts[:, 1:] + torch.where(flips[:, None], arange(w).flip(0), arange(w))  # (N, W)
    return padded[arange(n)[:, None, None, None], arange(c)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


class DeviceLoader:
    """Batches ``(images, labels)`` of a dataset held entirely on ``device``.

    Each pass shuffles with a generator seeded from ``seed`` and the epoch
    counter, so one seed gives the same batches on every device and each
    epoch a new order. With ``augment``, each image is randomly shifted by up
    to ``crop_padding`` pixels (a random crop of the zero-padded image) and,
    with ``flip``, mirrored with probability ``flip_probability`` (0.5).
    Batches come as floats standardised with ``mean`` and ``std``.

    With ``world_size`` > 1 (several processes training together, see
    :mod:`cnnbook.distributed`), the process of rank ``rank`` takes every
    ``world_size``-th example of each pass, starting at its rank, as PyTorch's
    DistributedSampler does: the shards are disjoint, and a shuffled (training)
    pass wraps around to its start so that every process takes the same number
    of steps.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, *,
                 device: torch.device | str | None = None, shuffle: bool = False, augment: bool = False,
                 crop_padding: int = 0, flip: bool = False, mean: float | Sequence[float],
                 std: float | Sequence[float], seed: int = 0, drop_last: bool = False,
                 dataset_name: str | None = None, rank: int = 0, world_size: int = 1):
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise TypeError(f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        if batch_size < 1 or crop_padding < 0:
            raise ValueError(f"need batch_size >= 1 and crop_padding >= 0, got {batch_size}, {crop_padding}")
        if not 0 <= rank < world_size:
            raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
        self.device = resolve(device)
        self.images, self.labels = images.to(self.device), labels.to(self.device, torch.int64)
        self.mean, self.std = _channel_stat(mean, self.device), _channel_stat(std, self.device)
        self.batch_size, self.shuffle, self.augment, self.drop_last = batch_size, shuffle, augment, drop_last
        self.crop_padding, self.flip_probability = crop_padding, 0.5 if flip else 0.0
        self.seed, self.epoch, self.dataset_name = seed, 0, dataset_name
        self.rank, self.world_size = rank, world_size

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass the one of ``epoch`` (a resumed run replays the same order)."""
        self.epoch = epoch

    @property
    def num_samples(self) -> int:
        """Examples in one pass of this process: its shard, padded for training."""
        whole, rest = divmod(len(self.images), self.world_size)
        return whole + (1 if rest and (self.shuffle or self.rank < rest) else 0)

    def __len__(self) -> int:
        whole, rest = divmod(self.num_samples, self.batch_size)
        return whole + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        # All randomness of the epoch is drawn at once on the CPU, so it does not depend on the device.
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        self.epoch += 1
        n = len(self.images)
        order = torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
        if self.augment:
            shifts = torch.randint(0, 2 * self.crop_padding + 1, (n, 2), generator=generator)
            flips = torch.rand(n, generator=generator) < self.flip_probability
        if self.world_size > 1:   # this process's shard of the pass (the same order on every process)
            mine = torch.arange(self.rank, self.num_samples * self.world_size, self.world_size) % n
            order = order[mine]
            if self.augment:
                shifts, flips = shifts[mine], flips[mine]
        order = order.to(self.device)
        if self.augment:
            shifts, flips = shifts.to(self.device), flips.to(self.device)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            batch = slice(start, start + self.batch_size)
            index = order[batch]
            images = self.images[index]
            if self.augment:
                images = _crop_and_flip(images, self.crop_padding, shifts[batch], flips[batch])
            yield _standardise(images, self.mean, self.std), self.labels[index]


def loaders(name: str, batch_size: int = 256, *, device: torch.device | str | None = None,
            augment: bool = True, root: str | os.PathLike | None = None, pad: int = 0, seed: int = 0,
            quick: bool | None = None, rank: int = 0,
            world_size: int = 1) -> tuple[DeviceLoader, DeviceLoader]:
    """Train and test loaders for dataset ``name`` on ``device`` (default: the best available).

    The train loader shuffles and, with ``augment``, applies the dataset's
    crop and flip; the test loader does neither. In quick mode (``quick``, or
    ``CNNBOOK_QUICK`` when None) only the first QUICK_TRAIN / QUICK_TEST
    images are used. ``rank`` and ``world_size`` give each training process its shard.
    """
    info = dataset_info(name)
    quick = quick_mode() if quick is None else quick
    made = []
    for train, quick_size in ((True, QUICK_TRAIN), (False, QUICK_TEST)):
        images, labels = load(name, train=train, root=root, pad=pad)
        if quick:
            images, labels = images[:quick_size], labels[:quick_size]
        made.append(DeviceLoader(images, labels, batch_size, device=device, shuffle=train,
                                 augment=augment and train, crop_padding=info.crop_padding, flip=info.flip,
                                 mean=info.mean, std=info.std, seed=seed, dataset_name=name,
                                 rank=rank, world_size=world_size))
    return made[0], made[1]


IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class _ImageFolder(datasets.ImageFolder):
    """ImageFolder that skips an image it cannot decode, with a warning naming the file (see ``folder_loaders``)."""

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int] | None:
        try:
            return super().__getitem__(index)
        except (OSError, ValueError) as error:   # PIL's UnidentifiedImageError is an OSError
            warnings.warn(f"skipped unreadable image {self.samples[index][0]}: {error}", stacklevel=2)
            return None


def _collate_readable(batch: list) -> list[torch.Tensor]:
    """A batch of the images that could be read (``_ImageFolder`` gives None for the others)."""
    readable = [item for item in batch if item is not None]
    if not readable:
        raise DatasetFileError(f"none of the {len(batch)} images of a batch could be read (see the warnings "
                               "naming them): delete or replace the damaged files.")
    return default_collate(readable)


class FolderLoader(DataLoader):
    """A DataLoader whose ``set_epoch`` reshuffles its sampler, as ``fit`` expects of a loader."""

    dataset_name = "folder"

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)


def folder_loaders(root: str | os.PathLike, batch_size: int = 256, *, size: int = 224, augment: bool = True,
                   workers: int | None = None, seed: int = 0, rank: int = 0,
                   world_size: int = 1) -> tuple[FolderLoader, FolderLoader]:
    """Train and validation loaders over ``root/train/<class>/<image>`` and
    ``root/val/<class>/<image>``: torchvision's ImageFolder layout, as ImageNet is
    usually unpacked.

    ``workers`` processes (default: up to 8) decode the images. Training images
    get a random resized crop to ``size`` and a random flip (with ``augment``),
    validation images a resize to 8/7 of ``size`` and a centre crop; both are
    normalised with ImageNet's mean and std. An image that cannot be decoded is
    skipped, with a warning naming its file, and its batch is one image shorter:
    checking every image before training would mean reading all of ImageNet
    once more. With ``world_size`` > 1 each process
    reads its own shard (DistributedSampler for training; every ``world_size``-th
    image from ``rank`` for validation, so that each image is counted once).
    """
    root = Path(root).expanduser()
    missing = [part for part in ("train", "val") if not (root / part).is_dir()]
    if missing:
        raise DatasetNotFoundError(f"{root} has no {' or '.join(missing)} folder; an image-folder dataset needs "
                                   "root/train/<class>/<image> and root/val/<class>/<image>")
    normalize = [transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    evaluation = transforms.Compose([transforms.Resize(round(size * 8 / 7)), transforms.CenterCrop(size), *normalize])
    training = transforms.Compose([transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(),
                                   *normalize]) if augment else evaluation
    train_set = _ImageFolder(str(root / "train"), training)
    val_set = _ImageFolder(str(root / "val"), evaluation)
    if train_set.classes != val_set.classes:
        raise ValueError(f"{root}: train/ and val/ have different class folders "
                         f"({len(train_set.classes)} and {len(val_set.classes)})")
    workers = min(8, os.cpu_count() or 1) if workers is None else workers
    common = dict(batch_size=batch_size, num_workers=workers, pin_memory=torch.cuda.is_available(),
                  persistent_workers=workers > 0, collate_fn=_collate_readable)
    sampler = DistributedSampler(train_set, num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
    return (FolderLoader(train_set, sampler=sampler, **common),
            FolderLoader(val_set, sampler=range(rank, len(val_set), world_size), **common))
