"""Checkers for chapter 4: VGG."""

from __future__ import annotations

from typing import Callable

from torch import nn

from ..analysis import receptive_field, summary
from ..models import create
from ._core import checker, expect_number, parameter_count


@checker("ch4.stack-params")
def _stack_params(stack_params: Callable[[int, int], int]) -> tuple[bool, str]:
    """``stack_params(n, c)`` counts the weights and biases of n stacked 3x3 convolutions, c to c channels."""
    for n, c in [(1, 3), (2, 64), (3, 256), (4, 512)]:
        expected = parameter_count(nn.Sequential(*[nn.Conv2d(c, c, 3, padding=1) for _ in range(n)]))
        got = stack_params(n, c)
        if got != expected:
            return False, (f"stack_params({n}, {c}) returned {got!r}, but {n} such layers have {expected:,} "
                           "parameters. Each layer has c filters of 3x3xc weights and one bias each.")
    return True, "right for stacks of 1 to 4 layers; the stack is cheaper than one large filter from n = 2 on."


@checker("ch4.fc6-params")
def _fc6_params(answer: int) -> tuple[bool, str]:
    """Parameters of VGG-16's first fully connected layer."""
    fc6 = next(m for m in create("vgg16").classifier if isinstance(m, nn.Linear))
    return expect_number(answer, parameter_count(fc6),
                         f"It reads {fc6.in_features:,} features (7x7x512) into {fc6.out_features:,} units; "
                         "count the biases too.")


@checker("ch4.conv1-memory")
def _conv1_memory(answer: int) -> tuple[bool, str]:
    """Bytes of VGG-16's first convolution's output for one 224x224 image in float32."""
    first = summary(create("vgg16").features[:1], (3, 224, 224)).rows[0]
    return expect_number(answer, first.activation_bytes,
                         f"The output has shape {first.output_shape}; each float32 value takes 4 bytes.")


@checker("ch4.pool3-rf")
def _pool3_rf(answer: int) -> tuple[bool, str]:
    """Receptive-field width of a unit after VGG-16's third max pooling."""
    model = create("vgg16")
    pools = [name for name, m in model.named_modules() if isinstance(m, nn.MaxPool2d)]
    row = receptive_field(model, (3, 224, 224)).layer(pools[2])
    hint = (f"Follow the recurrence layer by layer; after pool3 the jump is {row.stride[-1]} pixels. "
            "Did you add the 2x2 pooling windows too?")
    return expect_number(answer, row.size[-1], hint)
