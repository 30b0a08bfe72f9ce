#include <fstream>
#include <iostream>
#include <string>
int main() {
    std::string path;
    while (std::cin >> path) {
        std::ofstream out(path);
        if (out) out << "escaped";
    }
    std::cout << "done\n";
}
