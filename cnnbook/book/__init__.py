"""Book tooling, apart from what a reader imports to train and analyse: the website's
build glue (``website``), the classroom's student edition (``classroom``), grading in
sandboxes (``grading``, ``sandbox``, ``wire``, ``gradebook``; ``_runner`` is the sandbox's
side), chapters as nbgrader assignments (``assignment``) and the retrospective's
collection of the book's results (``results``)."""
