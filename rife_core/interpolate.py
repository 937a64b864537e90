"""``python -m rife_core.interpolate``: the front end lives in ``rife_core.cli.interpolate``."""

import sys

from rife_core.cli.interpolate import main

if __name__ == "__main__":
    sys.exit(main())
