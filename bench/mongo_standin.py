"""The benchmark's MongoDB stand-in, now :mod:`aerolake.devstack.mongo_server` (this file runs it, for the
command lines that still name it):

    /work/main/.venv/bin/python bench/mongo_standin.py [--port 0]      # prints "listening on 127.0.0.1:<port>"
"""

import sys

from aerolake.devstack.mongo_server import main

if __name__ == "__main__":
    sys.exit(main())
