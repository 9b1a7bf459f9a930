"""`python -m tlcore …`: the command-line face of the same tlcore calls the pages make."""

import os
import sys

from tlcore.cli import main

try:
    code = main()
    sys.stdout.flush()
except BrokenPipeError:  # `python -m tlcore runs --json | head`: the reader left; not an error worth a traceback
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the interpreter's last flush goes nowhere
    code = 1  # as the Python docs recipe (signal module, "Note on SIGPIPE") does
sys.exit(code)
