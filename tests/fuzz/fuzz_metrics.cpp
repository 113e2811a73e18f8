// libFuzzer target: the metrics line parser (src/core/metricsparser.h) and the terminal log
// folding in front of it (src/core/terminallog.h). Input: one selector byte, then log text.
//   even selector: every "\n"-separated line goes straight to MetricsParser::parseLine.
//   odd selector:  the text is fed to TerminalLog in chunks of (selector / 4 + 1) characters
//                  (bit 1 alternates stdout and stderr between chunks), superseded states
//                  reported; the completed and flushed lines go to MetricsParser::parseLines.
// Checked: TerminalLog's documented line invariants and sane metrics/ETA output.

#include "fuzzcommon.h"
#include "metricsparser.h"
#include "terminallog.h"

#include <cmath>

using namespace kd;

namespace {

void checkPoints(const QList<MetricPoint> &points, const MetricsParser &parser)
{
    for (const MetricPoint &p : points)
        fuzz::check(!p.series.isEmpty(), "a metric point has a series name");
    if (const auto eta = parser.etaSeconds())
        fuzz::check(std::isfinite(*eta) && *eta >= 0, "the ETA is a finite, non-negative time");
}

void checkLines(const QList<LogLine> &lines)
{
    for (const LogLine &line : lines) {
        fuzz::check(line.text.size() <= TerminalLog::kMaxLineLength, "lines are wrapped");
        for (const QChar c : line.text)
            fuzz::check(c != u'\n' && c != u'\r' && c != u'\x1b', "no control characters");
        qsizetype end = 0;
        for (const StyleSpan &span : line.spans) {
            fuzz::check(span.length > 0, "spans are not empty");
            fuzz::check(span.start >= end, "spans are sorted and do not overlap");
            end = qsizetype(span.start) + span.length;
            fuzz::check(end <= line.text.size(), "spans lie inside the line");
        }
    }
}

void direct(QByteArrayView text)
{
    MetricsParser parser;
    QList<MetricPoint> points;
    double time = 0;
    qsizetype pos = 0;
    while (pos <= text.size()) {
        qsizetype nl = text.sliced(pos).indexOf('\n');
        if (nl < 0)
            nl = text.size() - pos;
        parser.parseLine(QString::fromUtf8(text.sliced(pos, nl)), time, points);
        time += 1.5;
        pos += nl + 1;
    }
    checkPoints(points, parser);
}

void throughTerminal(QByteArrayView bytes, uint8_t selector)
{
    const QString text = QString::fromUtf8(bytes);
    const qsizetype chunk = selector / 4 + 1;
    const bool alternate = selector & 2;
    TerminalLog terminal;
    terminal.setReportSuperseded(true);
    QList<LogLine> lines;
    double time = 0;
    int n = 0;
    for (qsizetype pos = 0; pos < text.size(); ++n) {
        qsizetype len = std::min(chunk, text.size() - pos);
        if (text.at(pos + len - 1).isHighSurrogate() && pos + len < text.size())
            ++len; // a LogEvent never splits a surrogate pair
        const auto stream =
            alternate && n % 2 ? LogEvent::Stream::Stderr : LogEvent::Stream::Stdout;
        terminal.feed(stream, time, QStringView(text).sliced(pos, len), lines);
        (void)terminal.partial(stream);
        time += 0.25;
        pos += len;
    }
    terminal.flush(lines);
    checkLines(lines);
    MetricsParser parser;
    QList<MetricPoint> points;
    parser.parseLines(lines, points);
    checkPoints(points, parser);
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
        direct(text);
    else
        throughTerminal(text, data[0]);
    return 0;
}
