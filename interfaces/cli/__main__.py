"""`python -m interfaces.cli`: the `gateway-scheduler` command, as the tests and benches start it."""

import sys

from interfaces.cli import main

sys.exit(main())
