"""``python -m rife_core.fetch_weights``: the front end lives in ``rife_core.cli.fetch_weights``."""

import sys

from rife_core.cli.fetch_weights import main

if __name__ == "__main__":
    sys.exit(main())
