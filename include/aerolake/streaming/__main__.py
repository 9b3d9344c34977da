"""``python -m aerolake.streaming``: see :mod:`aerolake.streaming.cli`."""

import sys

from aerolake.streaming.cli import main

sys.exit(main())
