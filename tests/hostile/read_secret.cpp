#include <fstream>
#include <iostream>
#include <string>
int main() {
    std::string path, text;
    std::getline(std::cin, path);
    std::ifstream in(path);
    if (in && std::getline(in, text)) std::cout << text << "\n";
    else std::cout << "blocked\n";
}
