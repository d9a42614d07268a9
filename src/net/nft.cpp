// libnftables runner (see nft.hpp). nft_run_cmd_from_buffer returns non-zero on failure and
// leaves the kernel's complaint ("Error: Could not process rule: Operation not permitted")
// in the buffered error stream, whose first line becomes the error's context.
#include "net/nft.hpp"

#include "net/errors.hpp"
#include "util/strings.hpp"

#include <memory>
#include <nftables/libnftables.h>

namespace fleetbox {

namespace {

struct CtxFree {
    void operator()(nft_ctx* p) const { nft_ctx_free(p); }
};
using CtxPtr = std::unique_ptr<nft_ctx, CtxFree>;

Result<CtxPtr> open_ctx(const std::string& operation, unsigned int output_flags) {
    CtxPtr ctx(nft_ctx_new(NFT_CTX_DEFAULT));
    if (!ctx)
        return fail(ErrorKind::Io, operation, "could not create an nftables context");
    nft_ctx_output_set_flags(ctx.get(), output_flags);
    if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
        return fail(ErrorKind::Io, operation, "could not buffer nftables output");
    }
    return ctx;
}

std::string first_error_line(const char* buffer) {
    const std::string text = buffer ? buffer : "";
    std::string line(trim(text.substr(0, text.find('\n'))));
    if (starts_with(line, "Error: "))
        line.erase(0, 7);
    return line.empty() ? "nftables rejected the command" : line;
}

Error nft_error(const std::string& operation, const std::string& why) {
    if (why.find("Operation not permitted") != std::string::npos) {
        return Error{ErrorKind::Permission, 0, operation, why, kNetAdminHint};
    }
    Error e{ErrorKind::Io, 0, operation, why, {}};
    if (why.find("Not supported") != std::string::npos ||
        why.find("Protocol not supported") != std::string::npos) {
        e.kind = ErrorKind::MissingDependency;
        e.hint = "the kernel lacks nf_tables support (CONFIG_NF_TABLES, nft_masq)";
    }
    return e;
}

Result<std::string> run(const std::string& operation, const std::string& script,
                        unsigned int flags) {
    auto ctx = FBX_TRY(open_ctx(operation, flags));
    if (nft_run_cmd_from_buffer(ctx.get(), script.c_str()) != 0) {
        return fail(nft_error(operation, first_error_line(nft_ctx_get_error_buffer(ctx.get()))));
    }
    const char* out = nft_ctx_get_output_buffer(ctx.get());
    return std::string(out ? out : "");
}

} // namespace

Status nft_run(const std::string& operation, const std::string& script) {
    FBX_TRY(run(operation, script, 0));
    return {};
}

Result<std::string> nft_list_json(const std::string& operation, const std::string& command) {
    return run(operation, command, NFT_CTX_OUTPUT_JSON);
}

} // namespace fleetbox
