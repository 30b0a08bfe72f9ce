for i in range(200000):
    with open(f"small-{i}.txt", "w") as handle:
        handle.write("z" * 100)
print("done")
