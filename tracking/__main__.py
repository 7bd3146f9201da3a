"""`python -m tracking`: the workspace's command line (see `tracking.cli`)."""

import sys

from tracking.cli import main

sys.exit(main())
