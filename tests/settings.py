"""Settings for the test run: production's settings with the sandbox gateway and supplier on, as
under `make run`. Set in the environment (not only here) so subprocesses the tests start agree."""

import os

os.environ.setdefault("KAMENG_SANDBOX", "1")

from kameng.settings import *  # noqa: F403
