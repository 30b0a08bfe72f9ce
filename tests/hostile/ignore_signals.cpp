#include <csignal>
int main() {
    std::signal(SIGXCPU, SIG_IGN);
    std::signal(SIGTERM, SIG_IGN);
    volatile unsigned long long x = 0;
    while (true) x++;
}
