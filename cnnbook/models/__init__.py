"""Every architecture of the book, one file per family.

``create(name, **kwargs)`` builds a model by name; ``names()`` lists them.
"""

from . import lenet
from ._registry import create, names, register

__all__ = ["create", "names", "register", "lenet"]
