"""``python -m stratoflow.cli``."""

import sys

from stratoflow.cli import main

sys.exit(main())
