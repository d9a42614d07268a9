// fleetbox-bench-fetch: one fetch_url (the download layer of `fleetbox up --image URL`),
// for bench/download.sh to time against `curl -o` of the same file.
//
//   fleetbox-bench-fetch URL DEST     prints "<bytes> <seconds> <sha256>" on success
//
// Why a program and not a CLI flag: the benchmark measures the layer alone (no image cache,
// no inspection), and a hidden option in the product CLI would be one more thing to maintain.
#include "fetch/fetch.hpp"

#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: fleetbox-bench-fetch URL DEST\n");
        return 2;
    }
    fleetbox::fetch::FetchOptions options;
    auto r = fleetbox::fetch::fetch_url(argv[1], argv[2], options);
    if (!r) {
        std::fprintf(stderr, "error: %s\n", r.error().message().c_str());
        return 1;
    }
    std::printf("%llu %.3f %s\n", static_cast<unsigned long long>(r->size), r->seconds,
                r->sha256.c_str());
    return 0;
}
