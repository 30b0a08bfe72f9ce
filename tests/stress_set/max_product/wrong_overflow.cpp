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
    std::vector<int> a(n);
    for (auto& x : a) std::cin >> x;
    std::sort(a.begin(), a.end());
    int low = a[0] * a[1], high = a[n - 1] * a[n - 2];
    std::cout << std::max(low, high) << "\n";
}
