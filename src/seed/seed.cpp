// write_seed_iso: render the NoCloud documents and hand them to the ISO writer.
#include "seed/seed.hpp"

#include "seed/iso_image.hpp"

namespace fleetbox::seed {

Status write_seed_iso(const SeedSpec& spec, const std::string& out_path) {
    auto wrap = [&](Error e) { return std::move(e).wrap("write seed " + out_path); };
    IsoSpec iso;
    iso.volume_id = kSeedVolumeId;
    iso.publisher = kSeedPublisher;
    iso.files.push_back({"meta-data", FBX_TRY(render_meta_data(spec).map_error(wrap))});
    iso.files.push_back({"user-data", FBX_TRY(render_user_data(spec).map_error(wrap))});
    iso.files.push_back({"network-config", FBX_TRY(render_network_config(spec).map_error(wrap))});
    return write_iso_image(iso, out_path);
}

} // namespace fleetbox::seed
