// write_iso_image over libisofs: build an IsoImage from memory streams, start the image
// generator (a libisofs writer thread feeding a ring buffer, exposed as a libburn-style
// burn_source), and copy its output into an AtomicFile, which renames the finished image into
// place. A failed or short read cancels the generator before freeing it, and the AtomicFile's
// temporary file is removed, so no partial image is ever visible at out_path.
// libisofs is initialized once per process without touching the process locale (flag bit0),
// and its messages are neither queued nor printed: failures come back as return codes.
#include "seed/iso_image.hpp"

#include <cstdlib>
#include <cstring>
// We consume the generator ourselves instead of handing it to libburn, so we need libisofs's
// copy of libburn's struct burn_source declaration.
#define LIBISOFS_WITHOUT_LIBBURN 1
#include "sys/atomic_file.hpp"

#include <libisofs/libisofs.h>
#include <memory>
#include <mutex>

namespace fleetbox::seed {

namespace {

constexpr int kBlock = 2048;

struct ImageDeleter {
    void operator()(IsoImage* image) const { iso_image_unref(image); }
};
using ImageHandle = std::unique_ptr<IsoImage, ImageDeleter>;

struct OptsDeleter {
    void operator()(IsoWriteOpts* opts) const { iso_write_opts_free(opts); }
};
using OptsHandle = std::unique_ptr<IsoWriteOpts, OptsDeleter>;

// Owns the generator; cancels it unless its whole output was consumed.
class Generator {
public:
    explicit Generator(burn_source* src) : src_(src) {}
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;
    ~Generator() {
        if (!complete_)
            src_->cancel(src_);
        src_->free_data(src_);
        std::free(src_);
    }
    [[nodiscard]] burn_source* get() const { return src_; }
    void mark_complete() { complete_ = true; }

private:
    burn_source* src_;
    bool complete_ = false;
};

tl::unexpected<Error> iso_fail(std::string operation, int code) {
    const char* msg = iso_error_to_msg(code);
    return fail(code == static_cast<int>(ISO_OUT_OF_MEM) ? ErrorKind::NoSpace : ErrorKind::Internal,
                std::move(operation),
                msg ? std::string("libisofs: ") + msg : "libisofs error " + std::to_string(code));
}

Status init_libisofs() {
    static std::once_flag once;
    static int result = 0;
    std::call_once(once, [] {
        result = iso_init_with_flag(1);
        char never[] = "NEVER";
        char id[] = "libisofs";
        if (result >= 0)
            iso_set_msgs_severities(never, never, id);
    });
    if (result < 0)
        return iso_fail("initialize libisofs", result);
    return {};
}

Status add_file(IsoDir* root, const IsoEntry& entry) {
    auto* buf =
        static_cast<unsigned char*>(std::malloc(entry.content.empty() ? 1 : entry.content.size()));
    if (buf == nullptr)
        return fail(ErrorKind::NoSpace, "add " + entry.name + " to the ISO image", "out of memory");
    std::memcpy(buf, entry.content.data(), entry.content.size());
    IsoStream* stream = nullptr;
    if (int rc = iso_memory_stream_new(buf, entry.content.size(), &stream); rc < 0) {
        std::free(buf); // not taken over on failure
        return iso_fail("add " + entry.name + " to the ISO image", rc);
    }
    IsoFile* file = nullptr;
    if (int rc = iso_tree_add_new_file(root, entry.name.c_str(), stream, &file); rc < 0) {
        iso_stream_unref(stream); // the file takes the reference only on success
        return iso_fail("add " + entry.name + " to the ISO image", rc);
    }
    iso_node_set_permissions(reinterpret_cast<IsoNode*>(file), 0444);
    return {};
}

Result<ImageHandle> build_image(const IsoSpec& spec) {
    IsoImage* raw = nullptr;
    if (int rc = iso_image_new(spec.volume_id.c_str(), &raw); rc < 0)
        return iso_fail("create ISO image", rc);
    ImageHandle image(raw);
    iso_image_set_volume_id(raw, spec.volume_id.c_str());
    iso_image_set_publisher_id(raw, spec.publisher.c_str());
    IsoDir* root = iso_image_get_root(raw);
    for (const auto& entry : spec.files)
        FBX_CHECK(add_file(root, entry));
    return image;
}

// Profile 2 ("distribution"): Rock Ridge + Joliet, default permissions and owners (root,
// 0444 files), timestamps of recording. Then relax the plain ISO 9660 names so they equal
// the real ones: level 2 (31 characters), lowercase and '-' allowed, no ";1", no forced dot;
// and keep the volume id's case in the primary descriptor ("cidata", as genisoimage -V writes
// it) instead of libisofs's default uppercasing.
Result<OptsHandle> write_options() {
    IsoWriteOpts* raw = nullptr;
    if (int rc = iso_write_opts_new(&raw, 2); rc < 0)
        return iso_fail("set ISO write options", rc);
    OptsHandle opts(raw);
    int rc = 0;
    for (int r :
         {iso_write_opts_set_iso_level(raw, 2), iso_write_opts_set_rockridge(raw, 1),
          iso_write_opts_set_joliet(raw, 1), iso_write_opts_set_allow_lowercase(raw, 1),
          iso_write_opts_set_allow_7bit_ascii(raw, 1),
          iso_write_opts_set_omit_version_numbers(raw, 1), iso_write_opts_set_no_force_dots(raw, 1),
          iso_write_opts_set_relaxed_vol_atts(raw, 1)}) {
        if (r < 0 && rc == 0)
            rc = r;
    }
    if (rc < 0)
        return iso_fail("set ISO write options", rc);
    return opts;
}

Status copy_output(Generator& gen, AtomicFile& out, const std::string& out_path) {
    burn_source* src = gen.get();
    const off_t expected = src->get_size(src);
    off_t total = 0;
    unsigned char buf[kBlock];
    for (;;) {
        int n = src->read_xt(src, buf, kBlock);
        if (n < 0)
            return fail(ErrorKind::Internal, "write ISO image " + out_path,
                        "libisofs failed to generate the image");
        if (n == 0)
            break;
        FBX_CHECK(out.write(
            std::string_view(reinterpret_cast<const char*>(buf), static_cast<size_t>(n))));
        total += n;
    }
    if (total != expected)
        return fail(ErrorKind::Internal, "write ISO image " + out_path,
                    "libisofs produced " + std::to_string(total) + " of " +
                        std::to_string(expected) + " bytes");
    gen.mark_complete();
    return {};
}

} // namespace

Status write_iso_image(const IsoSpec& spec, const std::string& out_path) {
    FBX_CHECK(init_libisofs());
    ImageHandle image = FBX_TRY(build_image(spec));
    OptsHandle opts = FBX_TRY(write_options());
    auto out = FBX_TRY(AtomicFile::open(out_path, 0600)); // holds the guest's private host key
    burn_source* raw = nullptr;
    if (int rc = iso_image_create_burn_source(image.get(), opts.get(), &raw); rc < 0)
        return iso_fail("write ISO image " + out_path, rc);
    Generator gen(raw);
    FBX_CHECK(copy_output(gen, out, out_path));
    return out.commit();
}

} // namespace fleetbox::seed
