// The two provisioners and the choice between them (see provisioner.hpp).
#include "seed/provisioner.hpp"

#include "seed/fast_seed.hpp"
#include "seed/seed.hpp"
#include "util/strings.hpp"

namespace fleetbox::seed {

namespace {

class NoCloudProvisioner final : public Provisioner {
public:
    [[nodiscard]] Provisioning method() const override { return Provisioning::NoCloud; }
    [[nodiscard]] const char* seed_file_name() const override { return "seed.iso"; }
    [[nodiscard]] Status write_seed(const SeedSpec& spec, const std::string& path) const override {
        return write_seed_iso(spec, path);
    }
};

class FleetboxSeedProvisioner final : public Provisioner {
public:
    [[nodiscard]] Provisioning method() const override { return Provisioning::FleetboxSeed; }
    [[nodiscard]] const char* seed_file_name() const override { return "seed.tar"; }
    [[nodiscard]] Status write_seed(const SeedSpec& spec, const std::string& path) const override {
        return write_fast_seed(spec, path);
    }
};

} // namespace

std::string_view to_string(Provisioning method) {
    return method == Provisioning::NoCloud ? kMethodNoCloud : kMethodFleetboxSeed;
}

Result<Provisioning> parse_provisioning(std::string_view text) {
    if (text == kMethodNoCloud)
        return Provisioning::NoCloud;
    if (text == kMethodFleetboxSeed)
        return Provisioning::FleetboxSeed;
    return fail(ErrorKind::InvalidArgument, "choose how the guest is configured",
                "unknown method \"" + std::string(text) + "\"",
                std::string("use ") + kMethodFleetboxSeed + " or " + kMethodNoCloud);
}

const Provisioner& provisioner_for(Provisioning method) {
    static const NoCloudProvisioner nocloud;
    static const FleetboxSeedProvisioner fast;
    if (method == Provisioning::NoCloud)
        return nocloud;
    return fast;
}

Result<Provisioning> choose_provisioning(const std::vector<std::string>& supported,
                                         std::optional<Provisioning> requested,
                                         const std::string& image) {
    std::vector<Provisioning> known;
    for (const auto& name : supported)
        if (auto m = parse_provisioning(name))
            known.push_back(*m);
    if (supported.empty())
        known.push_back(Provisioning::NoCloud);
    if (known.empty())
        return fail(
            ErrorKind::InvalidArgument, "choose how the guest of image " + image + " is configured",
            "the image supports only methods this fleetbox does not know (" +
                join(supported, ", ") + ")",
            "upgrade fleetbox, or rebuild the image: fleetbox image build --force " + image);
    if (!requested)
        return known.front();
    for (auto m : known)
        if (m == *requested)
            return m;
    std::vector<std::string> names;
    for (auto m : known)
        names.emplace_back(to_string(m));
    std::string hint =
        *requested == Provisioning::FleetboxSeed
            ? "images built before the fast path need a rebuild: fleetbox image build --force " +
                  image
            : "use one of: " + join(names, ", ");
    return fail(ErrorKind::InvalidArgument,
                "choose how the guest of image " + image + " is configured",
                "the image does not support " + std::string(to_string(*requested)) +
                    " (it supports " + join(names, ", ") + ")",
                std::move(hint));
}

} // namespace fleetbox::seed
