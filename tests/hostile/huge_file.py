chunk = b"y" * (1 << 20)
with open("huge.bin", "wb") as handle:
    for _ in range(1024):
        handle.write(chunk)
print("done")
