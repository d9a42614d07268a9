// NDJSON encoding of control messages: one JSON object per line, {"cmd": ...} for requests
// and {"reply": ...} for replies. Decoding validates types and required fields and returns a
// Corrupt error naming the problem, so handlers only ever see well-formed messages.
#pragma once

#include "proto/messages.hpp"
#include "util/error.hpp"

#include <string>
#include <string_view>

namespace fleetbox::proto {

std::string encode(const Request& request);
std::string encode(const Reply& reply);
Result<Request> decode_request(std::string_view line);
Result<Reply> decode_reply(std::string_view line);
// Error <-> ErrorReply, so a helper-side Error reaches the client with its kind and hint.
ErrorReply to_reply(const Error& error);
Error to_error(const ErrorReply& reply);
// Name of the request's command, for logs ("boot-member").
std::string command_name(const Request& request);

} // namespace fleetbox::proto
