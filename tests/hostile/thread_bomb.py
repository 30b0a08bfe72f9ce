import threading
import time

threads = []
while True:
    thread = threading.Thread(target=time.sleep, args=(100,), daemon=True)
    thread.start()
    threads.append(thread)
