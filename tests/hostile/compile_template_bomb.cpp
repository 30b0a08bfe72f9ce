template <int N> struct Boom { static const long long value = Boom<N - 1>::value + Boom<N - 2>::value; };
template <> struct Boom<0> { static const long long value = 1; };
template <> struct Boom<1> { static const long long value = 1; };
int main() { return (int)Boom<100000>::value; }
