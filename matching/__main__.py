"""``python -m matching clear BOOK.json``: see :mod:`matching.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
