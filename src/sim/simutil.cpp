#include "simutil.h"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

namespace kd::sim {

uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t Rng::next()
{
    m_state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = m_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double Rng::uniform()
{
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double Rng::normal()
{
    double u1 = uniform();
    const double u2 = uniform();
    if (u1 < 1e-300)
        u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

int Rng::range(int lo, int hi)
{
    if (hi <= lo)
        return lo;
    const auto span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int>(next() % span);
}

uint64_t hash64(std::string_view text, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ mix64(seed);
    for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return mix64(h);
}

std::string formatDuration(double seconds)
{
    if (!(seconds > 0))
        return "0s";
    const auto millis = static_cast<long long>(std::llround(seconds * 1000.0));
    char buffer[48];
    if (millis % 1000 == 0)
        std::snprintf(buffer, sizeof buffer, "%llds", millis / 1000);
    else
        std::snprintf(buffer, sizeof buffer, "%lld.%03llds", millis / 1000, millis % 1000);
    return buffer;
}

std::string formatTimestamp(double unixSeconds)
{
    const auto millis = static_cast<long long>(std::floor(unixSeconds * 1000.0 + 0.5));
    long long secs = millis / 1000;
    long long ms = millis % 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    const auto t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buffer;
}

std::optional<double> parseTimestamp(std::string_view text)
{
    std::tm tm{};
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    int consumed = 0;
    const std::string s(text);
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                    &second, &consumed) != 6)
        return std::nullopt;
    double fraction = 0;
    size_t pos = static_cast<size_t>(consumed);
    if (pos < s.size() && s[pos] == '.') {
        double scale = 0.1;
        ++pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            fraction += (s[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
    }
    if (pos + 1 != s.size() || (s[pos] != 'Z' && s[pos] != 'z'))
        return std::nullopt;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return static_cast<double>(timegm(&tm)) + fraction;
}

std::string formatKaggleFileDate(double unixSeconds)
{
    static constexpr std::array<const char *, 7> days = {
        "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
    static constexpr std::array<const char *, 12> months = {
        "January", "February", "March",     "April",   "May",      "June",
        "July",    "August",   "September", "October", "November", "December"};
    const auto t = static_cast<std::time_t>(std::floor(unixSeconds));
    std::tm tm{};
    gmtime_r(&t, &tm);
    const int hour12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
    char buffer[96];
    std::snprintf(buffer, sizeof buffer, "%d:%02d %s, %s %d %s %d UTC", hour12, tm.tm_min,
                  tm.tm_hour < 12 ? "am" : "pm", days[static_cast<size_t>(tm.tm_wday)], tm.tm_mday,
                  months[static_cast<size_t>(tm.tm_mon)], tm.tm_year + 1900);
    return buffer;
}

double nextSaturdayUtc(double unixSeconds)
{
    constexpr double day = 86400.0;
    const double days = std::floor(unixSeconds / day);
    // 1970-01-01 was a Thursday; with Sunday = 0 that is weekday 4, and Saturday is 6.
    const auto weekday = static_cast<long long>(std::fmod(std::fmod(days + 4, 7) + 7, 7));
    double saturday = days + static_cast<double>((6 - weekday + 7) % 7);
    if (saturday * day <= unixSeconds)
        saturday += 7;
    return saturday * day;
}

double realUnixNow()
{
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string slugify(std::string_view title)
{
    std::string slug;
    bool pendingDash = false;
    for (const char c : title) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'a' && u <= 'z') || (u >= '0' && u <= '9')) {
            if (pendingDash && !slug.empty())
                slug += '-';
            pendingDash = false;
            slug += c;
        } else if (u >= 'A' && u <= 'Z') {
            if (pendingDash && !slug.empty())
                slug += '-';
            pendingDash = false;
            slug += static_cast<char>(u - 'A' + 'a');
        } else {
            pendingDash = true;
        }
    }
    return slug;
}

std::string toLower(std::string_view text)
{
    std::string out(text);
    for (auto &c : out) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && toLower(a) == toLower(b);
}

std::optional<std::string> base64Decode(std::string_view text)
{
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z')
            return c - 'A';
        if (c >= 'a' && c <= 'z')
            return c - 'a' + 26;
        if (c >= '0' && c <= '9')
            return c - '0' + 52;
        if (c == '+' || c == '-')
            return 62;
        if (c == '/' || c == '_')
            return 63;
        return -1;
    };
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (const char c : text) {
        if (c == '=')
            break;
        const int v = value(c);
        if (v < 0)
            return std::nullopt;
        buffer = (buffer << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    return out;
}

std::vector<std::string> split(std::string_view text, char separator)
{
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        const size_t pos = text.find(separator, start);
        if (pos == std::string_view::npos) {
            parts.emplace_back(text.substr(start));
            return parts;
        }
        parts.emplace_back(text.substr(start, pos - start));
        start = pos + 1;
    }
}

std::string formatNumber(double value)
{
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    std::string text(buffer, result.ptr);
    // Python's repr prints whole floats with ".0" and keeps two exponent digits ("2e-05").
    if (text.find_first_of(".eninf") == std::string::npos)
        text += ".0";
    return text;
}

std::string randomToken()
{
    static thread_local std::random_device device;
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%08x%08x%08x%08x", device(), device(), device(),
                  device());
    return buffer;
}

} // namespace kd::sim
