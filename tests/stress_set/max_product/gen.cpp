// Generator: `gen SEED N` prints one input with 2 <= n <= N (n = N for large N).
#include <cstdlib>
#include <iostream>
#include <random>

int main(int argc, char** argv) {
    unsigned seed = std::atoi(argv[1]);
    long long bound = std::atoll(argv[2]);
    std::mt19937_64 rng(seed);
    long long n = bound > 100 ? bound : 2 + rng() % (bound > 2 ? bound - 1 : 1);
    std::uniform_int_distribution<long long> value(-1000000000LL, 1000000000LL);
    std::cout << n << "\n";
    for (long long i = 0; i < n; ++i) std::cout << value(rng) << (i + 1 < n ? ' ' : '\n');
}
