"""``python -m rife_core.data``: the front end lives in ``rife_core.cli.data``."""

import sys

from rife_core.cli.data import main

sys.exit(main())
