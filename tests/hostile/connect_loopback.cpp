#include <arpa/inet.h>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>
int main() {
    int port;
    if (std::scanf("%d", &port) != 1) return 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (sockaddr*)&addr, sizeof addr) == 0) {
        write(fd, "escaped", 7);
        std::puts("connected");
    } else {
        std::puts("blocked");
    }
}
