"""The command line: ``python -m cnnbook train|summary|models|student|grade|assignment``.

    python -m cnnbook train --model lenet --dataset fashion-mnist --epochs 15
    python -m cnnbook summary --model lenet5 --depth 2
    python -m cnnbook models
    python -m cnnbook student _build/student            # the student edition, for teachers
    python -m cnnbook grade submissions/*.ipynb         # grade students' notebooks (sandboxed)
    python -m cnnbook assignment ch1 course/            # a chapter's exercises for nbgrader

``train`` runs unchanged under torchrun, one process per GPU (or several on CPUs):

    torchrun --nproc_per_node=4 -m cnnbook train --model resnet50 --dataset folder \
        --data-root /data/imagenet --batch-size 64 --sync-bn
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from pathlib import Path
from types import ModuleType

import torch

from . import data, distributed, models
from .analysis import summary
from .device import parse_device
from .models.inputs import check_input
from .train import OPTIMIZERS, SCHEDULES, TrainingDiverged, check_options, fit, writable_path


def _keyword(text: str) -> tuple[str, object]:
    """``width=2`` -> ("width", 2); values are Python literals, else strings."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cnnbook", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model on a dataset")
    train.add_argument("--model", required=True, help="a name from `python -m cnnbook models`")
    train.add_argument("--dataset", default="fashion-mnist", choices=sorted(data.DATASETS) + ["folder"],
                       help="a known dataset, or 'folder': images in --data-root/{train,val}/<class>/")
    train.add_argument("--data-root", help="folder with the dataset (default: $CNNBOOK_DATA, known copies)")
    train.add_argument("--image-size", type=int, default=224, help="crop size for --dataset folder")
    train.add_argument("--workers", type=int, help="image-decoding processes for --dataset folder")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch-size", type=int, default=256)
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd")
    train.add_argument("--lr", type=float)
    train.add_argument("--weight-decay", type=float)
    train.add_argument("--schedule", choices=SCHEDULES, default="onecycle")
    train.add_argument("--label-smoothing", type=float, default=0.0)
    train.add_argument("--aux-weight", type=float,
                       help="weight of each auxiliary classifier's loss (default: the paper's, "
                            "for GoogLeNet and Inception v3)")
    train.add_argument("--no-augment", action="store_true")
    train.add_argument("--no-amp", action="store_true", help="no mixed precision on GPU")
    train.add_argument("--compile", action="store_true", help="use torch.compile")
    train.add_argument("--sync-bn", action="store_true",
                       help="under torchrun on GPUs: batch-norm statistics over all processes' batches")
    train.add_argument("--pad", type=int, default=0, help="zero-pad images (2 turns 28x28 into 32x32)")
    train.add_argument("--checkpoint", help="checkpoint file, written every epoch; resumes if present "
                       "and written by the same command")
    train.add_argument("--seed", type=int, default=0,
                       help="seeds the model's initial weights, the order and augmentation of the batches, "
                            "and dropout: the same command gives the same run")
    train.add_argument("--device", help="cpu, cuda, cuda:1 or mps (default: best available)")
    train.add_argument("--save-history", help="write the per-epoch history as JSON")
    train.add_argument("--arg", dest="model_args", type=_keyword, action="append", default=[],
                       metavar="KEY=VALUE", help="extra model argument, e.g. --arg width=2")

    show = commands.add_parser("summary", help="print a model's layer table")
    show.add_argument("--model", required=True)
    show.add_argument("--input-size", type=int, nargs=3, metavar=("C", "H", "W"))
    show.add_argument("--depth", type=int, help="fold modules deeper than this")
    show.add_argument("--arg", dest="model_args", type=_keyword, action="append", default=[],
                      metavar="KEY=VALUE")

    commands.add_parser("models", help="list the model names")

    student = commands.add_parser("student",
                                  help="write the student edition: no solutions, exercise cells empty")
    student.add_argument("folder", help="where to write it (then: jupyter-book build FOLDER)")
    student.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    student.add_argument("--repository",
                         help="the student edition's repository, for the website's launch buttons "
                                              "(default: no launch or repository buttons)")

    grading = commands.add_parser("grade", help="run students' notebooks, each in a sandbox, and grade them")
    grading.add_argument("notebooks", nargs="+", help="the students' .ipynb files")
    grading.add_argument("--chapter", help="the exercises' chapter, e.g. ch2 (default: from the file name)")
    grading.add_argument("--out", default="grades",
                         help="folder for gradebook.csv and feedback/ (default: grades)")
    grading.add_argument("--force", action="store_true", help="replace the gradebook already in --out")
    grading.add_argument("--workers", type=int, help="notebooks graded at once (default: one per core)")
    grading.add_argument("--cell-timeout", type=float, default=120, help="seconds allowed per cell")
    grading.add_argument("--timeout", type=float, default=600, help="seconds allowed per notebook")
    grading.add_argument("--memory", type=int, default=8192, help="MB of address space per notebook")

    task = commands.add_parser("assignment", help="turn a chapter's exercises into an nbgrader assignment")
    task.add_argument("chapter", help="e.g. ch1")
    task.add_argument("course", help="the nbgrader course folder (source/<name>/ is written)")
    task.add_argument("--name", help="the assignment's name (default: the chapter, e.g. ch1)")
    task.add_argument("--force", action="store_true", help="replace the assignment's source notebook")
    return parser


def _book(module: str) -> ModuleType:
    """A module of the book tooling, which needs the book's extras (nbformat, nbclient); imported on use."""
    try:
        return importlib.import_module(f"{__package__}.book.{module}")
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith(__package__):
            raise
        raise ModuleNotFoundError(
            f"the student, grade and assignment commands need {error.name}, which comes with the book's extras: "
            "pip install 'cnnbook[book]' (or run `make` in the repository)") from error


def _grade(args: argparse.Namespace) -> int:
    """Grade the notebooks, write the gradebook; 1 when some notebook could not be graded in full."""
    gradebook, grading = _book("gradebook"), _book("grading")
    limits = grading.Limits(cell_seconds=args.cell_timeout, notebook_seconds=args.timeout,
                            memory_mb=args.memory)
    if (Path(args.out) / "gradebook.csv").exists() and not args.force:
        raise ValueError(f"{Path(args.out) / 'gradebook.csv'} exists: pass another --out, or --force to replace it")
    show = lambda done, total, grade: print(f"[{done}/{total}] {grade.notebook}: {grade.score:g}/{grade.possible:g}"
                                            + (f" ({grade.problem})" if grade.problem else ""),
                                            file=sys.stderr)
    grades = grading.grade_all(args.notebooks, args.chapter, limits, args.workers, show)
    print("\n".join(grade.report() for grade in grades))
    book = gradebook.write(grades, args.out, force=args.force)
    failed = [grade for grade in grades if grade.problem]
    print(f"gradebook: {book}; feedback: {book.parent / 'feedback'}; "
          f"{len(grades) - len(failed)} of {len(grades)} notebooks graded in full", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "models":
            print("\n".join(models.names()))
        elif args.command == "student":
            edition = _book("classroom").student_edition(args.folder, force=args.force,
                                                         repository=args.repository)
            print(f"student edition in {edition}")
        elif args.command == "grade":
            return _grade(args)
        elif args.command == "assignment":
            notebook = _book("assignment").write_assignment(args.chapter, args.course, args.name,
                                                            force=args.force)
            print(f"nbgrader source notebook: {notebook}")
        elif args.command == "summary":
            model = models.create(args.model, **dict(args.model_args))
            print(summary(model, tuple(args.input_size) if args.input_size else None, depth=args.depth))
        else:
            if args.device:   # a misspelt or absent device is refused before any work
                parse_device(args.device, "--device")
            check_options(epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer,
                          lr=args.lr, weight_decay=args.weight_decay, momentum=0.9, schedule=args.schedule,
                          label_smoothing=args.label_smoothing, aux_weight=args.aux_weight)
            device = distributed.setup(args.device)
            for path, what in ((args.checkpoint, "checkpoint"), (args.save_history, "history file")):
                if path and distributed.is_main():   # before any work, not after it
                    writable_path(path, what)
            shard = dict(rank=distributed.rank(), world_size=distributed.world_size())
            if args.dataset == "folder":
                if not args.data_root:
                    raise ValueError("--dataset folder needs --data-root, the folder holding train/ and val/")
                pair = data.folder_loaders(args.data_root, args.batch_size, size=args.image_size,
                                           augment=not args.no_augment, workers=args.workers,
                                           seed=args.seed, **shard)
                classes, channels, size = pair[0].dataset.classes, 3, args.image_size
            else:
                info = data.dataset_info(args.dataset)
                pair = data.loaders(args.dataset, args.batch_size, device=device, augment=not args.no_augment,
                                    root=args.data_root, pad=args.pad, seed=args.seed, **shard)
                classes, channels, size = info.classes, info.channels, info.size + 2 * args.pad
            torch.manual_seed(args.seed)   # the same initial weights in every process and every run
            model = models.create(args.model, **dict(num_classes=len(classes), in_channels=channels)
                                  | dict(args.model_args))
            check_input(model,
                        (channels, size, size))   # images the model cannot take: refused before training
            if args.sync_bn and distributed.world_size() > 1:
                if device.type != "cuda":
                    raise ValueError("--sync-bn needs GPUs: PyTorch's SyncBatchNorm does not run on CPUs")
                model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
            history = fit(model, pair, epochs=args.epochs, optimizer=args.optimizer, lr=args.lr,
                          weight_decay=args.weight_decay, schedule=args.schedule,
                          label_smoothing=args.label_smoothing, aux_weight=args.aux_weight,
                          amp=not args.no_amp, compile=args.compile, checkpoint=args.checkpoint,
                          seed=args.seed, device=device, name=args.model)
            if args.save_history and distributed.is_main():
                history.save(args.save_history)
    except (ValueError, TypeError, FileNotFoundError, PermissionError, ModuleNotFoundError,
            TrainingDiverged) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        distributed.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
