"""Named points where the fault-injection tests kill the process, as a crash would.

Set PIVOT_FAILPOINT to a point's name and the process SIGKILLs itself there:
no cleanup, no `finally`, exactly what an OOM kill or a pulled plug leaves.
Unset (always, outside those tests), a failpoint is one dictionary lookup.
"""

import os
import signal

ENV_FAILPOINT = "PIVOT_FAILPOINT"


def failpoint(name: str) -> None:
    if os.environ.get(ENV_FAILPOINT) == name:
        os.kill(os.getpid(), signal.SIGKILL)
