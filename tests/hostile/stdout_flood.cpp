#include <cstdio>
int main() {
    while (true) std::fputs("floodfloodfloodfloodfloodfloodfloodfloodfloodflood\n", stdout);
}
