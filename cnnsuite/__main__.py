"""``python -m cnnsuite``."""

import sys

from ._cli import main

sys.exit(main())
