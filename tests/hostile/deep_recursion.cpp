#include <cstdio>
int down(int n) {
    volatile char pad[256];
    pad[0] = (char)n;
    return down(n + 1) + pad[0];
}
int main() { std::printf("%d\n", down(0)); }
