// fleetbox-test-httpd: serves a directory read-only over HTTP on 127.0.0.1 for end-to-end
// tests and benchmarks (image downloads without contacting any other address).
//
//   fleetbox-test-httpd DIR     prints the port on stdout, then serves until SIGTERM/SIGINT
//
// Range requests ("bytes=N-") get 206; files carry ETag and Last-Modified. A test helper
// (tests/support/http_server.hpp), never installed.
#include "http_server.hpp"

#include <csignal>
#include <cstdio>
#include <sys/stat.h>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fleetbox-test-httpd DIR\n");
        return 2;
    }
    struct stat st {};
    if (::stat(argv[1], &st) != 0 || !S_ISDIR(st.st_mode)) {
        std::fprintf(stderr, "fleetbox-test-httpd: %s is not a directory\n", argv[1]);
        return 2;
    }
    // Block the stop signals in every thread; main waits for them below.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    fleetbox::test::HttpServer server(argv[1]);
    if (server.port() == 0) {
        std::fprintf(stderr, "fleetbox-test-httpd: cannot listen on 127.0.0.1\n");
        return 1;
    }
    std::printf("%u\n", static_cast<unsigned>(server.port()));
    std::fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    return 0;
}
