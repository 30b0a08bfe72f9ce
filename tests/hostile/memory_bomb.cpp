#include <cstring>
#include <vector>
int main() {
    std::vector<char*> blocks;
    while (true) {
        char* block = new char[16 << 20];
        std::memset(block, 1, 16 << 20);
        blocks.push_back(block);
    }
}
