#include <cstdio>
int main() {
    int read = 0;
    std::scanf("%d", &read);
    volatile int zero = read;
    volatile int quotient = 100 / zero;
    std::printf("%d\n", quotient);
}
