"""`python -m bench.suite`: the suite bench (bench/suite/run.py)."""

import sys

from bench.suite.run import main

sys.exit(main())
