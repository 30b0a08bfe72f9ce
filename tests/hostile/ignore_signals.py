import signal

for name in ("SIGXCPU", "SIGTERM", "SIGINT", "SIGHUP"):
    signal.signal(getattr(signal, name), signal.SIG_IGN)
while True:
    pass
