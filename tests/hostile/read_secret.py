# Tries to read a secret file given on stdin; prints its text, or "blocked".
import sys

path = sys.stdin.read().strip()
try:
    with open(path) as handle:
        print(handle.read())
except OSError:
    print("blocked")
