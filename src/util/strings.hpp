// Small string helpers shared by every layer (splitting, trimming, shell quoting for messages).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fleetbox {

std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
// Quote one argument as a POSIX shell word: as is when it holds only characters no shell
// treats specially, else single-quoted ('it'\''s').
std::string shell_quote(std::string_view arg);
// Always single-quoted ('' for empty, 'it'\''s'): for words spliced into generated scripts.
std::string shell_single_quote(std::string_view arg);
std::string shell_join(const std::vector<std::string>& argv);
// Last non-empty line of a (possibly multi-line) text, trimmed; used to summarize stderr.
std::string last_line(std::string_view text);
// "1.2 s", "850 ms"
std::string format_duration(double seconds);
// "1.5 GiB", "300 KiB"
std::string format_bytes(unsigned long long bytes);

} // namespace fleetbox
