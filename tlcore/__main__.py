"""`python -m tlcore …`: the command-line face of the same tlcore calls the pages make."""

import sys

from tlcore.cli import main

sys.exit(main())
