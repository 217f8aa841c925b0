"""Loaded by pytest before Django reads its settings (`-p tests.environment` in pyproject).

The test servers speak plain HTTP on loopback, as `scripts/test.sh` sets too; the secure
defaults are checked in a process of their own (tests/core/test_deploy.py).
"""

import os

os.environ.setdefault("INSECURE_HTTP", "1")
