// First at least.
//
// Given a sorted array of n integers and q queries x, print for each query how many elements are less
// than x. The first line holds n and q, the second the array, then one query per line.
//
// Constraints: 1 <= n, q <= 2*10^5, 1 <= a_i, x <= 10^9.
// Time limit: 1 second

#include <cstdio>
#include <vector>

int main() {
    int n, q;
    if (std::scanf("%d %d", &n, &q) != 2) return 1;
    std::vector<int> a(n);
    for (auto& x : a) std::scanf("%d", &x);
    while (q--) {
        int x;
        std::scanf("%d", &x);
        int i = 0;
        while (i < n && a[i] < x) ++i;
        std::printf("%d\n", i);
    }
}
