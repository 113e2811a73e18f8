#pragma once

// Small, dependency-free helpers shared by the simulator's parts: a portable seeded RNG (so a
// seed means the same thing on every platform and standard library), hashing, and the text
// forms Kaggle uses on the wire (protobuf durations, ISO timestamps, slugs).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kd::sim {

/// splitmix64-based generator: tiny state, good enough statistics, identical everywhere.
class Rng final
{
public:
    explicit Rng(uint64_t seed = 0) : m_state(seed) {}
    uint64_t next();
    double uniform(); ///< [0, 1)
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    double normal();           ///< standard normal (Box-Muller)
    int range(int lo, int hi); ///< [lo, hi]

private:
    uint64_t m_state;
};

uint64_t mix64(uint64_t x);
uint64_t hash64(std::string_view text, uint64_t seed = 0);

/// Protobuf JSON duration: "3600s", "0s", "151.500s" (millisecond precision).
std::string formatDuration(double seconds);
/// ISO-8601 UTC with milliseconds: "2026-06-01T12:00:00.000Z".
std::string formatTimestamp(double unixSeconds);
/// Accepts "YYYY-MM-DDTHH:MM:SS[.fff]Z"; nullopt otherwise.
std::optional<double> parseTimestamp(std::string_view text);
/// Kaggle's preformatted kernel file date: "4:41 pm, Wednesday 23 September 2026 UTC".
std::string formatKaggleFileDate(double unixSeconds);
/// Next Saturday 00:00 UTC strictly after the given time (Kaggle's weekly quota reset).
double nextSaturdayUtc(double unixSeconds);
double realUnixNow();

/// Title -> slug as Kaggle derives it: lower case, runs of non-alphanumerics -> one dash.
std::string slugify(std::string_view title);
std::string toLower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
std::optional<std::string> base64Decode(std::string_view text);
std::vector<std::string> split(std::string_view text, char separator);
/// Shortest round-trip text of a double (Python-repr-like: "2e-05", "0.4123").
std::string formatNumber(double value);
/// A random 128-bit hex token from the OS entropy source (unguessable URLs).
std::string randomToken();

} // namespace kd::sim
