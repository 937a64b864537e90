"""``python -m rife_core.train``: the front end lives in ``rife_core.cli.train``."""

import sys

from rife_core.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
