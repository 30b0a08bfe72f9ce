# Tries to reach a listener on the host's loopback; prints "blocked" when it cannot.
import socket
import sys

port = int(sys.stdin.read())
try:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
        conn.sendall(b"escaped")
    print("connected")
except OSError:
    print("blocked")
