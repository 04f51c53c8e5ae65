"""``python -m benchmarks.attacks``: run the attack suite (``--help`` for the options)."""

from __future__ import annotations

import sys

from benchmarks.attacks.runner import main

if __name__ == "__main__":
    sys.exit(main())
