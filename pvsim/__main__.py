"""``python -m pvsim``: the same as the installed ``pvsim`` command."""

import sys

from pvsim.cli import main

if __name__ == "__main__":
    sys.exit(main())
