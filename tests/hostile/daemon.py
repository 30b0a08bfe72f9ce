# A setsid double-fork daemon that outlives its parent and later tries to write outside.
import os
import sys
import time

target = sys.stdin.read().strip()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3)
        for path in (target, "/tmp/vibe-pwned-daemon"):
            try:
                with open(path, "w") as handle:
                    handle.write("escaped")
            except OSError:
                pass
        time.sleep(60)
    os._exit(0)
print("42")
