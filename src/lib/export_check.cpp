// libfleetbox.so's own translation unit: it holds no code of its own (the public API is
// defined in src/client, linked whole), only a compile-time check that the export macro is
// what the hidden-visibility build relies on.
#include <fleetbox/fleetbox.hpp>
#include <string_view>

namespace fleetbox {
namespace {
#define FLEETBOX_STRINGIFY_(x) #x
#define FLEETBOX_STRINGIFY(x) FLEETBOX_STRINGIFY_(x)
static_assert(std::string_view(FLEETBOX_STRINGIFY(FLEETBOX_API)).find("default") !=
                  std::string_view::npos,
              "FLEETBOX_API must give the public API default visibility");
} // namespace
} // namespace fleetbox
