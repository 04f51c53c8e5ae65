"""h2load, driven and read: the code lives in `gethy.h2load`, shared with notebook 10.

The benchmarks and the capstone notebook read h2load's report with the same
parser; this module keeps the benchmarks' import path.
"""

from gethy.h2load import (
    MISSING,
    LoadResult,
    h2load_argv,
    h2load_async,
    h2load_path,
    h2load_version,
    parse_report,
    run_h2load,
)

__all__ = [
    "MISSING",
    "LoadResult",
    "h2load_argv",
    "h2load_async",
    "h2load_path",
    "h2load_version",
    "parse_report",
    "run_h2load",
]
