"""``python -m rife_core.evaluate``: the front end lives in ``rife_core.cli.evaluate``."""

import sys

from rife_core.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
