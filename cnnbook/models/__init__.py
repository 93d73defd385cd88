"""Every architecture of the book, one file per family.

``create(name, **kwargs)`` builds a model by name; ``names()`` lists them.
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
from ._registry import create, names, register

__all__ = ["create", "names", "register", "lenet"]
