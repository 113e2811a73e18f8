// libFuzzer target: the persisted log array parser and the SSE event parser
// (src/kaggle/logformat.h). Input: one selector byte, then the text.
//   even selector: parseLogArray(text); a parsed log must survive writeLogArray and parse
//                  back to the same events.
//   odd selector:  SseLogParser fed the text in chunks of (selector / 2 + 1) bytes; the events
//                  must equal those of feeding the whole text at once.

#include "fuzzcommon.h"
#include "logformat.h"

#include <cmath>

using namespace kd;

namespace {

bool sameEvent(const LogEvent &a, const LogEvent &b)
{
    if (a.stream != b.stream)
        return false;
    const double t = std::isfinite(a.time) ? a.time : 0.0; // the writer stores non-finite as 0
    if (t != b.time && !(t == 0 && b.time == 0))
        return false;
    // Lone surrogates (from \ud800 escapes) cannot be written back as UTF-8.
    if (!a.data.isValidUtf16())
        return true;
    return a.data == b.data;
}

void logArray(QByteArrayView text)
{
    const auto parsed = parseLogArray(text);
    if (!parsed.ok()) {
        fuzz::check(!parsed.error().message.isEmpty(), "a parse error has a message");
        return;
    }
    fuzz::check(parsed->skipped >= 0, "skipped count is not negative");
    const QByteArray written = writeLogArray(parsed->events);
    const auto again = parseLogArray(written);
    fuzz::check(again.ok(), "a written log parses");
    fuzz::check(again->complete, "a written log is complete");
    fuzz::check(again->skipped == 0, "a written log has no malformed element");
    fuzz::check(again->events.size() == parsed->events.size(), "round trip keeps every event");
    for (qsizetype i = 0; i < parsed->events.size(); ++i)
        fuzz::check(sameEvent(parsed->events.at(i), again->events.at(i)),
                    "round trip keeps each event");
    // One event per SSE line parses back the same way.
    SseLogParser sse;
    QByteArray stream;
    for (const LogEvent &ev : parsed->events)
        stream += "data: " + writeLogEventJson(ev) + "\n\n";
    const QList<LogEvent> streamed = sse.feed(stream);
    fuzz::check(streamed.size() == parsed->events.size(), "SSE keeps every event");
    for (qsizetype i = 0; i < streamed.size(); ++i)
        fuzz::check(sameEvent(parsed->events.at(i), streamed.at(i)), "SSE keeps each event");
}

void sseStream(QByteArrayView text, qsizetype chunkSize)
{
    SseLogParser whole;
    const QList<LogEvent> expected = whole.feed(text);
    fuzz::check(whole.bufferedBytes() <= text.size(), "buffer holds at most the input");

    SseLogParser chunked;
    QList<LogEvent> got;
    for (qsizetype pos = 0; pos < text.size(); pos += chunkSize)
        got += chunked.feed(text.sliced(pos, std::min(chunkSize, text.size() - pos)));
    fuzz::check(chunked.ended() == whole.ended(), "END_OF_LOG seen regardless of chunking");
    fuzz::check(got.size() == expected.size(), "chunking keeps the event count");
    for (qsizetype i = 0; i < got.size(); ++i)
        fuzz::check(got.at(i) == expected.at(i) ||
                        (std::isnan(got.at(i).time) && std::isnan(expected.at(i).time)),
                    "chunking keeps each event");
    fuzz::check(chunked.bufferedBytes() == whole.bufferedBytes(),
                "chunking keeps the partial line");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const QByteArrayView text = fuzz::rest(data, size);
    if (data[0] % 2 == 0)
        logArray(text);
    else
        sseStream(text, data[0] / 2 + 1);
    return 0;
}
