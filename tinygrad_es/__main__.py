"""`python -m tinygrad_es ...` runs the `tinygrad-es` command."""

import sys

from .cli import main

sys.exit(main())
