"""``python -m sandbox``: see :mod:`sandbox.cli`."""

from .cli import main

raise SystemExit(main())
