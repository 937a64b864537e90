"""``python -m rife_core.cost``: the front end lives in ``rife_core.cli.cost``."""

import sys

from rife_core.cli.cost import main

sys.exit(main())
