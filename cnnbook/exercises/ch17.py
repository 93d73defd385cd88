"""Checkers for chapter 17: the retrospective."""

from __future__ import annotations

from .. import models
from ..analysis import receptive_field, summary
from ._core import checker, expect_number

IMAGENET = (3, 224, 224)


@checker("ch17.resnext-macs")
def _resnext_macs(answer: float) -> tuple[bool, str]:
    """ResNeXt-50 (32x4d) MACs divided by ResNet-50 MACs at 224x224, to two decimals."""
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return False, f"expected a number, got {type(answer).__name__}"
    macs = {name: summary(models.create(name), IMAGENET, receptive_fields=False).total_macs
            for name in ("resnext50_32x4d", "resnet50")}
    ratio = macs["resnext50_32x4d"] / macs["resnet50"]
    if abs(answer - ratio) <= 0.01:
        return True, f"{ratio:.3f}: cardinality bought accuracy at almost the same cost."
    return False, f"{answer} is not it: divide the MACs column of resnext50_32x4d by that of resnet50."


@checker("ch17.vgg16-field")
def _vgg16_field(answer: int) -> tuple[bool, str]:
    """The receptive field of VGG-16's last spatial layer (after the fifth pooling), in pixels."""
    expected = receptive_field(models.create("vgg16"), IMAGENET).size[0]
    return expect_number(answer, expected, "Each 3x3 convolution adds 2 x (the jump), each 2x2 pooling "
                                           "adds 1 x (the jump) and doubles the jump.")


@checker("ch17.stem-memory")
def _stem_memory(answer: int) -> tuple[bool, str]:
    """Bytes of ResNet-50's first convolution's output for a batch of 32 float32 images at 224x224."""
    per_image = summary(models.create("resnet50"), IMAGENET,
                        receptive_fields=False).row("conv1").activation_bytes
    return expect_number(answer, 32 * per_image,
                         "64 maps of 112x112 float32 numbers per image, times the batch.")
