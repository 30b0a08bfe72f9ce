// Maximum product of two.
//
// Given n integers, print the largest product a_i * a_j of two elements at different positions.
// The first line holds n, the second the n integers a_i.
//
// Constraints: 2 <= n <= 2*10^5, |a_i| <= 10^9.
// Time limit: 1 second

#include <algorithm>
#include <iostream>
#include <vector>

int main() {
    int n;
    std::cin >> n;
    std::vector<long long> a(n);
    for (auto& x : a) std::cin >> x;
    std::sort(a.begin(), a.end());
    std::cout << std::max(a[0] * a[1], a[n - 1] * a[n - 2]) << "\n";
}
