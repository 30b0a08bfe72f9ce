#include <vector>

// The length of the longest strictly increasing run of adjacent elements.
// Constraints: 1 <= len(a) <= 8, |a[i]| <= 10.
// longest_increasing_run([1, 3, 5, 4, 7]) == 3
// longest_increasing_run([2, 1]) == 1
int longest_increasing_run(std::vector<int> a) {
    int best = 1, run = 1;
    for (std::size_t i = 1; i < a.size(); ++i) {
        run = a[i] >= a[i - 1] ? run + 1 : 1;
        if (run > best) best = run;
    }
    return best;
}
