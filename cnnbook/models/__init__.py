"""Every architecture of the book, one file per family.

``create(name, **kwargs)`` builds a model by name; ``names()`` lists them;
``info(name)`` says which torchvision or timm model it equals, and the parameter
counts of that model and of its paper.
"""

from . import lenet
from . import alexnet
from . import vgg
from . import nin
from . import googlenet
from . import inception
from . import blocks
from . import stochastic_depth
from . import resnet
from . import highway
from . import preact_resnet
from . import wide_resnet
from . import resnext
from . import densenet
from . import dpn
from . import resnest
from ._registry import ModelInfo, create, info, names, register

__all__ = ["ModelInfo", "create", "info", "names", "register", "lenet"]
