"""cnnbook: the helper package of *Convolutional networks from LeNet to ResNeSt*.

Modules: ``models`` (every architecture of the book), ``data`` (datasets held on
the training device), ``train`` (the trainer), ``analysis`` (layer tables),
``widgets`` (interactive explorers), ``claims`` (conclusions checked against their run),
``plotting``, ``exercises`` and ``device``; book tooling in ``book``.
"""

__version__ = "0.1.0"
