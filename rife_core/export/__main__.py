"""``python -m rife_core.export``: the front end lives in ``rife_core.cli.export``."""

import sys

from rife_core.cli.export import main

sys.exit(main())
