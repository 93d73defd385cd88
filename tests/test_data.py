"""cnnbook.data: real torchvision loading from tiny files in the real formats,
the download path against a local HTTP server, the real Fashion-MNIST, and
the on-device loader's shuffling, augmentation and normalisation."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import pickle
import socket
import struct
import subprocess
import threading
from pathlib import Path

import pytest
import torch
from torchvision import datasets

from cnnbook import data

REAL_LOCAL_COPIES = {name: list(folders) for name, folders in data.LOCAL_COPIES.items()}
IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte"]
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No user environment, no known local copies, a private cache, no reachable download mirror."""
    monkeypatch.setenv("CNNBOOK_CACHE", str(tmp_path / "cache"))
    for var in ("CNNBOOK_DATA", "CNNBOOK_QUICK", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for name in data.LOCAL_COPIES:
        monkeypatch.setitem(data.LOCAL_COPIES, name, [])
    url = closed_port_url()
    monkeypatch.setattr(datasets.MNIST, "mirrors", [url])
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [url])
    monkeypatch.setattr(datasets.CIFAR10, "url", url + "cifar-10-python.tar.gz")
    data._read.cache_clear()
    yield
    data._read.cache_clear()


# ---------------------------------------------------------------- tiny files in the real formats

def idx_bytes(array: torch.Tensor) -> bytes:
    """The IDX encoding of a uint8 tensor: magic 0x0000 08 <ndim>, big-endian sizes, the bytes."""
    header = struct.pack(">I", 0x0800 + array.dim()) + struct.pack(f">{array.dim()}I", *array.shape)
    return header + array.numpy().tobytes()


def tiny_split(n: int, salt: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` 28x28 images with distinct, known pixels and labels."""
    images = ((torch.arange(n * 28 * 28) * 7 + salt) % 251).to(torch.uint8).reshape(n, 28, 28)
    labels = ((torch.arange(n) * 3 + salt) % 10).to(torch.uint8)
    return images, labels


def write_idx(folder: Path, train=None, test=None, gz: bool = False) -> dict:
    """The four IDX files of a train and a test split in ``folder``; returns the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = dict(zip(IDX_FILES, (*(train or tiny_split(5, 1)), *(test or tiny_split(3, 2)))))
    for file, array in arrays.items():
        raw = idx_bytes(array)
        (folder / (file + ".gz" if gz else file)).write_bytes(gzip.compress(raw) if gz else raw)
    return arrays


def assert_idx_loaded(name: str, arrays: dict, **kwargs) -> None:
    for train, prefix in ((True, "train"), (False, "t10k")):
        images, labels = data.load(name, train=train, download=False, **kwargs)
        assert images.dtype == torch.uint8 and labels.dtype == torch.int64
        assert images.shape == (len(arrays[f"{prefix}-labels-idx1-ubyte"]), 1, 28, 28)
        assert torch.equal(images[:, 0], arrays[f"{prefix}-images-idx3-ubyte"])
        assert torch.equal(labels, arrays[f"{prefix}-labels-idx1-ubyte"].long())


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def write_cifar(folder: Path, per_batch: int = 2) -> dict[str, tuple[torch.Tensor, list[int]]]:
    """CIFAR-10 python pickles (rows of 3072 bytes: R, G, B planes) and batches.meta in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for i, file in enumerate(CIFAR_FILES):
        rows = ((torch.arange(per_batch * 3072) * 13 + i) % 256).to(torch.uint8).reshape(per_batch, 3072)
        labels = [(i + j) % 10 for j in range(per_batch)]
        with open(folder / file, "wb") as f:
            pickle.dump({"data": rows.numpy(), "labels": labels, "batch_label": file}, f)
        written[file] = rows, labels
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": data.class_names("cifar10"), "num_vis": 3072}, f)
    return written


def trust_cifar_files(monkeypatch, folder: Path) -> None:
    """Point torchvision's md5 table at the tiny files (its check itself stays on)."""
    monkeypatch.setattr(datasets.CIFAR10, "train_list", [[f, md5(folder / f)] for f in CIFAR_FILES[:5]])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", md5(folder / "test_batch")]])
    monkeypatch.setattr(datasets.CIFAR10, "meta",
                        {**datasets.CIFAR10.meta, "md5": md5(folder / "batches.meta")})


# ---------------------------------------------------------------- finding and reading files

@pytest.mark.parametrize("name", ["fashion-mnist", "mnist"])
@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "plain"])
def test_flat_idx_folder_is_prepared_and_read(tmp_path, name, gz):
    arrays = write_idx(tmp_path / "flat", gz=gz)
    assert_idx_loaded(name, arrays, root=tmp_path / "flat")
    cls_name = data.DATASETS[name].torchvision_class.__name__
    prepared = list((tmp_path / "cache" / "prepared").glob(f"*/{cls_name}/raw"))
    assert len(prepared) == 1   # each copy beside the record of its source
    assert sorted(p.name for p in prepared[0].iterdir()) == sorted(IDX_FILES + [f"{f}.source" for f in IDX_FILES])


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "plain"])
def test_torchvision_layout(tmp_path, gz):
    arrays = write_idx(tmp_path / "tv" / "FashionMNIST" / "raw", gz=gz)
    assert_idx_loaded("fashion-mnist", arrays, root=tmp_path / "tv")
    # Unzipped files in torchvision's layout are read where they are; gzipped ones are unzipped into the cache.
    assert (tmp_path / "cache" / "prepared").exists() == gz


def test_prepared_copy_is_not_redone(tmp_path):
    write_idx(tmp_path / "flat", gz=True)
    data.load("mnist", root=tmp_path / "flat")
    copies = list((tmp_path / "cache" / "prepared").rglob("*-ubyte"))
    stamps = [p.stat().st_mtime_ns for p in copies]
    data._read.cache_clear()
    data.load("mnist", root=tmp_path / "flat")
    assert [p.stat().st_mtime_ns for p in copies] == stamps


def test_resolution_order(tmp_path, monkeypatch):
    root = write_idx(tmp_path / "root", train=tiny_split(4, 10))
    env = write_idx(tmp_path / "env", train=tiny_split(4, 20))
    local = write_idx(tmp_path / "local", train=tiny_split(4, 30), gz=True)
    monkeypatch.setitem(data.LOCAL_COPIES, "fashion-mnist", [tmp_path / "nowhere", tmp_path / "local"])
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path / "env"))

    def train_labels(**kwargs):
        return data.load("fashion-mnist", download=False, **kwargs)[1]

    assert torch.equal(train_labels(root=tmp_path / "root"), root["train-labels-idx1-ubyte"].long())
    with pytest.raises(data.DatasetNotFoundError, match="empty.*does not exist"):   # no fallback
        train_labels(root=tmp_path / "empty")
    assert torch.equal(train_labels(), env["train-labels-idx1-ubyte"].long())
    monkeypatch.delenv("CNNBOOK_DATA")
    assert torch.equal(train_labels(), local["train-labels-idx1-ubyte"].long())


def test_incomplete_folder_is_not_used(tmp_path):
    write_idx(tmp_path / "flat")
    (tmp_path / "flat" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(data.DatasetNotFoundError):
        data.load("fashion-mnist", root=tmp_path / "flat", download=False)


def test_pad_and_in_process_cache(tmp_path):
    arrays = write_idx(tmp_path / "flat")
    images, labels = data.load("mnist", root=tmp_path / "flat", pad=2)
    assert images.shape == (5, 1, 32, 32) and images.dtype == torch.uint8
    assert torch.equal(images[:, 0, 2:-2, 2:-2], arrays["train-images-idx3-ubyte"])
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:-2, 2:-2] = False
    assert images[:, :, border].eq(0).all()
    first = data.load("mnist", root=tmp_path / "flat")[0]
    assert data.load("mnist", root=tmp_path / "flat")[0] is first
    assert data._read.cache_info().hits >= 2
    with pytest.raises(ValueError, match="pad"):
        data.load("mnist", root=tmp_path / "flat", pad=-1)


@pytest.mark.parametrize("layout", ["torchvision", "flat"])
def test_cifar10_pickles(tmp_path, monkeypatch, layout):
    files = tmp_path / "c" / "cifar-10-batches-py" if layout == "torchvision" else tmp_path / "c"
    written = write_cifar(files)
    trust_cifar_files(monkeypatch, files)
    images, labels = data.load("cifar10", root=tmp_path / "c", download=False)
    assert images.shape == (10, 3, 32, 32) and images.dtype == torch.uint8 and labels.dtype == torch.int64
    rows = torch.cat([written[f][0] for f in CIFAR_FILES[:5]])
    assert torch.equal(images.reshape(10, 3072), rows)   # channel planes, then rows, then columns
    assert labels.tolist() == sum((written[f][1] for f in CIFAR_FILES[:5]), [])
    test_images, test_labels = data.load("cifar10", train=False, root=tmp_path / "c", download=False)
    assert torch.equal(test_images.reshape(2, 3072), written["test_batch"][0])
    assert test_labels.tolist() == written["test_batch"][1]


def test_cifar10_md5_check_stays_on(tmp_path):
    write_cifar(tmp_path / "cifar-10-batches-py")   # md5 table not patched: the files must be refused
    with pytest.raises(data.DatasetFileError, match=r"data_batch_1.*MD5 differs.*Replace it"):
        data.load("cifar10", root=tmp_path, download=False)


# ---------------------------------------------------------------- download and missing data

@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server (in a thread) serving gzipped tiny Fashion-MNIST files."""
    folder = tmp_path / "mirror"
    arrays = write_idx(folder, gz=True)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", folder, arrays
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_download_into_cache(tmp_path, monkeypatch, mirror):
    url, folder, arrays = mirror
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [url])
    resources = [(f + ".gz", md5(folder / (f + ".gz"))) for f in IDX_FILES]
    monkeypatch.setattr(datasets.FashionMNIST, "resources", resources)
    images, labels = data.load("fashion-mnist", download=True)
    assert torch.equal(images[:, 0], arrays["train-images-idx3-ubyte"])
    assert torch.equal(labels, arrays["train-labels-idx1-ubyte"].long())
    raw = tmp_path / "cache" / "FashionMNIST" / "raw"
    assert all((raw / f).is_file() and (raw / (f + ".gz")).is_file() for f in IDX_FILES)
    # Once downloaded, the cache is found without the network.
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [closed_port_url()])
    data._read.cache_clear()
    assert_idx_loaded("fashion-mnist", arrays)


def test_download_with_wrong_md5_fails(monkeypatch, mirror):
    url, _, _ = mirror
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [url])
    monkeypatch.setattr(datasets.FashionMNIST, "resources", [(f + ".gz", "0" * 32) for f in IDX_FILES])
    with pytest.raises(data.DatasetNotFoundError, match="download"):
        data.load("fashion-mnist")


@pytest.mark.parametrize("download", [False, None], ids=["download-disabled", "download-fails"])
def test_missing_fashion_mnist(tmp_path, monkeypatch, download):
    (tmp_path / "my-data").mkdir()
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path / "my-data"))
    monkeypatch.setitem(data.LOCAL_COPIES, "fashion-mnist", [tmp_path / "debian"])
    with pytest.raises(data.DatasetNotFoundError) as caught:
        data.load("fashion-mnist", download=download)
    assert isinstance(caught.value, FileNotFoundError)
    message = str(caught.value)
    for place in ("my-data", "debian", "cache"):
        assert str(tmp_path / place) in message
    assert "sudo apt-get install dataset-fashion-mnist" in message and "CNNBOOK_DATA" in message
    assert "internet" in message
    if download is None:
        assert "download by torchvision" in message and caught.value.__cause__ is not None
    else:
        assert "download=False" in message


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_missing_other_datasets(name):
    with pytest.raises(data.DatasetNotFoundError) as caught:
        data.load(name)
    message = str(caught.value)
    assert "CNNBOOK_DATA" in message and "internet" in message and "apt-get" not in message
    assert "download by torchvision" in message


# ---------------------------------------------------------------- the real Fashion-MNIST

def test_real_fashion_mnist(monkeypatch):
    folder = REAL_LOCAL_COPIES["fashion-mnist"][0]
    if not all((folder / f"{f}.gz").is_file() for f in IDX_FILES):
        message = f"Fashion-MNIST is not in {folder}: sudo apt-get install dataset-fashion-mnist"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    monkeypatch.setitem(data.LOCAL_COPIES, "fashion-mnist", [folder])
    info = data.DATASETS["fashion-mnist"]
    for train, per_class in ((True, 6000), (False, 1000)):
        images, labels = data.load("fashion-mnist", train=train, download=False)
        assert images.shape == (10 * per_class, 1, 28, 28) and images.dtype == torch.uint8
        assert labels.bincount().tolist() == [per_class] * 10
        if train:   # the table's normalisation constants are the training set's statistics
            pixels = images.double() / 255
            assert pixels.mean().item() == pytest.approx(info.mean[0], abs=5e-4)
            assert pixels.std().item() == pytest.approx(info.std[0], abs=5e-4)


# ---------------------------------------------------------------- names, facts, quick mode

def test_unknown_name():
    with pytest.raises(ValueError, match="fashion-mnist, mnist, cifar10.*'fashion-mnist'"):
        data.load("fashion_mnist")
    with pytest.raises(ValueError, match="known"):
        data.class_names("imagenet")


def test_dataset_facts():
    assert data.class_names("fashion-mnist")[9] == "Ankle boot"
    assert data.class_names("cifar10")[0] == "airplane" and len(data.class_names("mnist")) == 10
    for info in data.DATASETS.values():
        assert len(info.classes) == 10 and len(info.mean) == len(info.std) == info.channels
    assert not data.DATASETS["mnist"].flip and data.DATASETS["fashion-mnist"].flip and data.DATASETS["cifar10"].flip
    assert [data.DATASETS[n].crop_padding for n in ("fashion-mnist", "mnist", "cifar10")] == [2, 2, 4]


@pytest.mark.parametrize("value, expected",
                         [("1", True), ("TRUE", True), ("yes", True), ("on", True), (" On ", True),
                                             ("0", False), ("no", False), ("", False), ("off", False),
                                             ("False", False), ("OFF", False)])
def test_quick_mode(monkeypatch, value, expected):
    monkeypatch.setenv("CNNBOOK_QUICK", value)
    assert data.quick_mode() is expected


@pytest.mark.parametrize("value", ["maybe", "2", "quick", "y"])
def test_quick_mode_rejects_other_values(monkeypatch, value):
    monkeypatch.setenv("CNNBOOK_QUICK", value)
    with pytest.raises(ValueError, match=f"CNNBOOK_QUICK='{value}'.*1, true, yes, on.*0, false, no, off"):
        data.quick_mode()


def test_loaders_quick_and_full(tmp_path, monkeypatch):
    n_train, n_test = data.QUICK_TRAIN + 100, data.QUICK_TEST + 50
    arrays = write_idx(tmp_path / "flat", train=tiny_split(n_train, 1), test=tiny_split(n_test, 2))
    monkeypatch.setenv("CNNBOOK_QUICK", "yes")
    train, test = data.loaders("fashion-mnist", 512, device="cpu", root=tmp_path / "flat")
    assert (train.num_samples, test.num_samples) == (data.QUICK_TRAIN, data.QUICK_TEST)
    assert torch.equal(test.labels,
                       arrays["t10k-labels-idx1-ubyte"][:data.QUICK_TEST].long())   # the first ones
    assert train.dataset_name == test.dataset_name == "fashion-mnist"
    assert train.shuffle and train.augment and (train.crop_padding, train.flip_probability) == (2, 0.5)
    assert not test.shuffle and not test.augment
    train, test = data.loaders("fashion-mnist", 512, device="cpu", root=tmp_path / "flat", quick=False, pad=2)
    assert (train.num_samples, test.num_samples) == (n_train, n_test)
    assert next(iter(test))[0].shape == (512, 1, 32, 32)
    assert data.loaders("mnist", device="cpu", root=tmp_path / "flat")[0].flip_probability == 0


# ---------------------------------------------------------------- DeviceLoader

def make_loader(images, labels=None, batch_size=4, **kwargs) -> data.DeviceLoader:
    labels = torch.arange(len(images)) if labels is None else labels
    return data.DeviceLoader(images, labels, batch_size,
                             **{"device": "cpu", "mean": 0.0, "std": 1.0, **kwargs})


def random_images(n, c=1, size=8, seed=0):
    return torch.randint(0, 256, (n, c, size, size), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(seed))


def collect(loader):
    batches = list(loader)
    return torch.cat([x for x, _ in batches]), torch.cat([y for _, y in batches])


def test_batches_shapes_and_dtypes():
    loader = make_loader(random_images(10, c=3), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3 and loader.num_samples == 10 and loader.batch_size == 4
    assert [len(y) for _, y in batches] == [4, 4, 2]
    assert all(x.dtype == torch.float32 and x.shape[1:] == (3, 8,
                                                            8) and y.dtype == torch.int64 for x, y in batches)
    assert loader.device == torch.device("cpu") and loader.images.device == loader.device
    dropped = make_loader(random_images(10), batch_size=4, drop_last=True)
    assert len(dropped) == len(list(dropped)) == 2


def test_rejects_bad_inputs():
    with pytest.raises(TypeError):
        make_loader(random_images(4).float())
    with pytest.raises(ValueError):
        make_loader(random_images(4), labels=torch.arange(3))
    with pytest.raises(ValueError):
        make_loader(random_images(4), batch_size=0)


def test_shuffle_sees_every_sample_once_and_varies_by_epoch():
    loader = make_loader(random_images(50), batch_size=8, shuffle=True)
    first, second = collect(loader)[1], collect(loader)[1]
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(50))
    assert not torch.equal(first, torch.arange(50)) and not torch.equal(first, second)
    assert torch.equal(collect(make_loader(random_images(50), batch_size=8))[1], torch.arange(50))
    loader.set_epoch(1)
    assert torch.equal(collect(loader)[1], second)  # a resumed run replays epoch 1's order


@pytest.mark.parametrize("device", DEVICES)
def test_same_seed_same_batches(device):
    images = random_images(40, c=3)
    settings = dict(batch_size=16, shuffle=True, augment=True, crop_padding=2, flip=True, seed=7)
    x_ref, y_ref = collect(make_loader(images, **settings))
    for x, y in (collect(make_loader(images, **settings)),
                 collect(make_loader(images, device=device, **settings))):
        assert torch.equal(y.cpu(), y_ref) and torch.allclose(x.cpu(), x_ref)
    assert not torch.equal(collect(make_loader(images, **{**settings, "seed": 8}))[1], y_ref)


def test_augmentation_changes_images_not_shapes():
    images = random_images(64, c=3)
    plain = collect(make_loader(images, batch_size=16))[0]
    augmented = collect(make_loader(images, batch_size=16, augment=True, crop_padding=2, flip=True))[0]
    assert augmented.shape == plain.shape
    changed = (augmented != plain).flatten(1).any(1)
    assert changed.float().mean() > 0.8


def asymmetric_image(size=8) -> torch.Tensor:
    """One image whose pixels are 1..size*size, all distinct (0 is left for padding)."""
    return (torch.arange(size * size) + 1).to(torch.uint8).reshape(1, 1, size, size)


def as_pixels(batch: torch.Tensor) -> torch.Tensor:
    return (batch * 255).round().to(torch.uint8)   # undo mean 0, std 1 scaling


def test_flip_mirrors():
    image = asymmetric_image().expand(32, -1, -1, -1).contiguous()
    loader = make_loader(image, batch_size=32, augment=True, flip=True)
    loader.flip_probability = 1.0
    assert torch.equal(as_pixels(collect(loader)[0]), image.flip(-1))
    loader.flip_probability = 0.0
    assert torch.equal(as_pixels(collect(loader)[0]), image)
    loader.flip_probability = 0.5
    out = as_pixels(collect(loader)[0])
    mirrored = out.eq(image.flip(-1)).flatten(1).all(1)
    assert (mirrored | out.eq(image).flatten(1).all(1)).all() and 0 < mirrored.sum() < 32


def test_crop_offsets_stay_within_padding():
    p, size, n = 3, 8, 400
    image = asymmetric_image(size)
    padded = torch.nn.functional.pad(image[0], (p,) * 4)
    # Every possible crop of the zero-padded image; each output must be exactly one of them.
    offsets = [(dy, dx) for dy in range(2 * p + 1) for dx in range(2 * p + 1)]
    crops = torch.stack([padded[:, dy:dy + size, dx:dx + size] for dy, dx in offsets])
    loader = make_loader(image.expand(n, -1, -1, -1).contiguous(), batch_size=64, augment=True,
                         crop_padding=p)
    out = as_pixels(collect(loader)[0])
    match = (out[:, None] == crops[None]).flatten(2).all(2)      # (n, offsets)
    assert match.sum(1).eq(1).all()
    found = torch.tensor(offsets)[match.float().argmax(1)] - p
    assert found.abs().max() <= p
    for axis in range(2):   # every shift from -p to p occurs
        assert sorted(found[:, axis].unique().tolist()) == list(range(-p, p + 1))


def test_normalisation():
    gen = torch.Generator().manual_seed(1)
    channels = [torch.randint(lo, hi, (200, 6, 6), generator=gen) for lo,
                hi in ((0, 100), (50, 256), (0, 256))]
    images = torch.stack(channels, 1).to(torch.uint8)   # three channels with different statistics
    pixels = images.double() / 255
    mean, std = pixels.mean((0, 2, 3)).tolist(), pixels.std((0, 2, 3)).tolist()
    out = collect(make_loader(images, batch_size=64, mean=mean, std=std))[0]
    assert torch.allclose(out.mean((0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(out.std((0, 2, 3)), torch.ones(3), atol=1e-3)
    white = make_loader(torch.full((1, 1, 2, 2), 255, dtype=torch.uint8), mean=0.5, std=0.25)
    assert torch.equal(next(iter(white))[0], torch.full((1, 1, 2, 2), 2.0))


def test_normalize_matches_loaders_and_denormalize_inverts():
    images = random_images(8, c=3, size=32)
    info = data.DATASETS["cifar10"]
    batch = next(iter(make_loader(images, batch_size=8, mean=info.mean, std=info.std)))[0]
    assert torch.allclose(data.normalize(images, "cifar10"), batch)
    assert torch.allclose(data.denormalize(batch, "cifar10"), images.float() / 255, atol=1e-6)


# ---------------------------------------------------------------- faults: bad roots, damaged files, the cache
# Each test is a row of the fault table in docs/robustness.md.

def test_explicit_root_without_the_dataset_is_an_error(tmp_path, monkeypatch):
    local = write_idx(tmp_path / "system", gz=True)   # a copy that must not be used instead
    monkeypatch.setitem(data.LOCAL_COPIES, "fashion-mnist", [tmp_path / "system"])
    assert torch.equal(data.load("fashion-mnist")[1], local["train-labels-idx1-ubyte"].long())
    (tmp_path / "other").mkdir()
    for root, why in ((tmp_path / "typo", "does not exist"),
                      (tmp_path / "other", "does not hold fashion-mnist"), ("", "is empty")):
        with pytest.raises(data.DatasetNotFoundError) as caught:
            data.load("fashion-mnist", root=root)
        message = str(caught.value)
        assert why in message and "train-images-idx3-ubyte" in message and "leave it out" in message


def test_cnnbook_data_that_is_no_folder_is_an_error(tmp_path, monkeypatch):
    write_idx(tmp_path / "system", gz=True)
    monkeypatch.setitem(data.LOCAL_COPIES, "fashion-mnist", [tmp_path / "system"])
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path / "typo"))
    with pytest.raises(data.DatasetNotFoundError, match="CNNBOOK_DATA=.*typo.* is not a folder.*unset it"):
        data.load("fashion-mnist")


def test_prepared_copy_is_keyed_on_content_not_mtime(tmp_path):
    """A repaired source that keeps its old mtime (cp -p, a restored backup) is prepared again."""
    source = tmp_path / "flat"
    write_idx(source, train=tiny_split(5, 1), gz=True)
    first = data.load("mnist", root=source)[1]
    labels = source / "train-labels-idx1-ubyte.gz"
    stat = labels.stat()
    write_idx(source, train=tiny_split(5, 7), gz=True)
    os.utime(source / "train-images-idx3-ubyte.gz", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.utime(labels, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    data._read.cache_clear()
    second = data.load("mnist", root=source)[1]
    assert torch.equal(second, tiny_split(5, 7)[1].long()) and not torch.equal(first, second)


def test_damaged_prepared_copy_is_remade(tmp_path):
    write_idx(tmp_path / "flat", gz=True)
    data.load("mnist", root=tmp_path / "flat")
    copy = next((tmp_path / "cache" / "prepared").rglob("train-images-idx3-ubyte"))
    copy.write_bytes(copy.read_bytes()[:100])   # truncated in the cache, the source intact
    data._read.cache_clear()
    assert data.load("mnist", root=tmp_path / "flat")[0].shape == (5, 1, 28, 28)


def bad_idx(kind: str) -> bytes:
    good = idx_bytes(tiny_split(5, 1)[0])
    return {"truncated": good[:-10], "empty": b"", "wrong-magic": b"\x00\x00\x09\x03" + good[4:],
            "header-only": good[:6], "too-long": good + b"\x00"}[kind]


@pytest.mark.parametrize("kind", ["truncated", "empty", "wrong-magic", "header-only", "too-long"])
def test_damaged_idx_file_is_named(tmp_path, kind):
    write_idx(tmp_path / "tv" / "FashionMNIST" / "raw")   # read in place: the error says to replace it
    damaged = tmp_path / "tv" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte"
    damaged.write_bytes(bad_idx(kind))
    with pytest.raises(data.DatasetFileError) as caught:
        data.load("fashion-mnist", root=tmp_path / "tv")
    assert str(damaged) in str(caught.value) and "Replace it with an intact copy" in str(caught.value)


def test_damaged_source_of_a_prepared_copy_is_named(tmp_path):
    write_idx(tmp_path / "flat", gz=True)
    source = tmp_path / "flat" / "t10k-labels-idx1-ubyte.gz"
    source.write_bytes(gzip.compress(idx_bytes(torch.zeros(3, dtype=torch.uint8))[:-1]))   # a byte short
    with pytest.raises(data.DatasetFileError) as caught:
        data.load("fashion-mnist", train=False, root=tmp_path / "flat")
    message = str(caught.value)
    assert "prepared" in message and str(tmp_path / "cache") in message and str(source) in message


def test_damaged_download_in_the_cache_says_delete_it(tmp_path):
    raw = tmp_path / "cache" / "FashionMNIST" / "raw"
    write_idx(raw)
    (raw / "train-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(data.DatasetFileError, match="downloaded copy in the cache: delete it"):
        data.load("fashion-mnist", download=False)


@pytest.mark.parametrize("split", ["wrong-count", "wrong-size"])
def test_images_and_labels_must_match(tmp_path, split):
    images = tiny_split(5, 1)[0] if split == "wrong-count" else torch.zeros(5, 32, 32, dtype=torch.uint8)
    labels = tiny_split(4 if split == "wrong-count" else 5, 1)[1]
    write_idx(tmp_path / "tv" / "MNIST" / "raw", train=(images, labels))
    with pytest.raises(data.DatasetFileError, match="needs N x 28x28 images and N labels"):
        data.load("mnist", root=tmp_path / "tv")


@pytest.mark.parametrize("damage", [b"not gzip at all", None], ids=["not-gzip", "truncated-gzip"])
def test_failed_gunzip_is_named_and_leaves_no_part_file(tmp_path, damage):
    write_idx(tmp_path / "flat", gz=True)
    source = tmp_path / "flat" / "train-images-idx3-ubyte.gz"
    source.write_bytes(damage or source.read_bytes()[:200])
    for _ in range(2):
        with pytest.raises(data.DatasetFileError, match=f"could not prepare .* from {source}.*replace it"):
            data.load("fashion-mnist", root=tmp_path / "flat")
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_part_files_of_dead_processes_are_removed(tmp_path):
    write_idx(tmp_path / "flat", gz=True)
    data.load("mnist", root=tmp_path / "flat")
    raw = next((tmp_path / "cache" / "prepared").rglob("raw"))
    dead = _dead_pid()
    left = [raw / f"train-images-idx3-ubyte.{dead}.part",
            raw / f"train-images-idx3-ubyte.{os.getppid()}.part"]
    for part in left:
        part.write_bytes(b"half")
    (raw / "train-images-idx3-ubyte.source").unlink()   # the copy must be made again
    data._read.cache_clear()
    data.load("mnist", root=tmp_path / "flat")
    assert not left[0].exists() and left[1].exists()   # a running process's part file is left alone


def _dead_pid() -> int:
    """The id of a process that has exited."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_cifar10_file_that_is_no_pickle_is_named(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder)
    trust_cifar_files(monkeypatch, folder)
    (folder / "data_batch_3").write_bytes(b"random bytes, not a pickle")
    with pytest.raises(data.DatasetFileError, match="data_batch_3: not the published cifar10 file"):
        data.load("cifar10", root=tmp_path)


def test_wrong_dataset_in_explicit_root_is_an_error(tmp_path):
    write_idx(tmp_path / "fashion")
    with pytest.raises(data.DatasetNotFoundError, match="does not hold cifar10.*data_batch_1"):
        data.load("cifar10", root=tmp_path / "fashion")


# ---------------------------------------------------------------- faults: folders of images

def image_tree(root: Path, broken: dict[str, bytes]) -> None:
    """root/{train,val}/{a,b}/ with two real 8x8 PNGs each, plus the ``broken`` files (path: content)."""
    from PIL import Image
    for part in ("train", "val"):
        for label, shade in (("a", 30), ("b", 220)):
            (root / part / label).mkdir(parents=True, exist_ok=True)
            for i in range(2):
                Image.new("RGB", (8, 8), (shade, i, 0)).save(root / part / label / f"{i}.png")
    for path, content in broken.items():
        (root / path).write_bytes(content)


def test_unreadable_image_is_skipped_with_a_warning_naming_it(tmp_path):
    image_tree(tmp_path, {"train/a/broken.png": b"not a png", "train/b/empty.jpg": b""})
    train, val = data.folder_loaders(tmp_path, 10, size=8, workers=0)
    with pytest.warns(UserWarning) as caught:
        batches = list(train)
    named = sorted(str(w.message).split(": ")[0] for w in caught)
    assert named == [f"skipped unreadable image {tmp_path / 'train/a/broken.png'}",
                     f"skipped unreadable image {tmp_path / 'train/b/empty.jpg'}"]
    assert [len(labels) for _, labels in batches] == [4]   # the 4 readable images of 6
    assert sum(len(labels) for _, labels in val) == 4


def test_a_batch_of_only_unreadable_images_is_an_error(tmp_path):
    image_tree(tmp_path, {"val/a/0.png": b"x", "val/a/1.png": b"y"})
    _, val = data.folder_loaders(tmp_path, 2, size=8, workers=0)
    with pytest.warns(UserWarning, match="skipped unreadable image"), \
            pytest.raises(data.DatasetFileError, match="none of the 2 images of a batch could be read"):
        list(val)


def test_partial_download_in_the_cache_is_deleted(tmp_path):
    """A download cut short (the last file truncated) is removed, so that the next load downloads it again."""
    raw = tmp_path / "cache" / "FashionMNIST" / "raw"
    write_idx(raw, gz=True)
    partial = raw / "t10k-labels-idx1-ubyte.gz"
    partial.write_bytes(partial.read_bytes()[:15])
    with pytest.raises(data.DatasetFileError, match="partial or damaged download and is now deleted"):
        data.load("fashion-mnist", download=False)
    assert not partial.exists() and (raw / "t10k-images-idx3-ubyte.gz").exists()
    with pytest.raises(data.DatasetNotFoundError, match="no download"):   # now simply missing
        data.load("fashion-mnist", download=False)
