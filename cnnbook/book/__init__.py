"""Book tooling, apart from what a reader imports to train and analyse: the website's
build glue (``website``), the classroom's student edition and grading (``classroom``)
and the retrospective's collection of the book's results (``results``)."""
