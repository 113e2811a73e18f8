#pragma once

#include "domain.h"
#include "terminallog.h"

#include <QList>
#include <QRegularExpression>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace kd {

/// Numeric series from training log lines: Hugging Face Trainer dicts, Keras progress lines,
/// tqdm postfixes, `key=value` / `key: value` pairs and user regexes with named captures.
/// Tracks the epoch and step context and estimates the remaining training time.
///
/// Lines are display lines (folded by TerminalLog: no "\r", no escapes). One parser per
/// session; points carry the event's log time, the caller sets their sessionId.
class MetricsParser final
{
public:
    MetricsParser();

    /// Regular expressions whose named captures are series, e.g. `top1 (?<acc>[0-9.]+)`.
    /// Returns one message per pattern that is invalid or has no named capture; the valid
    /// ones are used.
    QStringList setUserPatterns(const QStringList &patterns);

    void parseLine(QStringView line, double logTime, QList<MetricPoint> &out);
    QList<MetricPoint> parseLine(QStringView line, double logTime);
    /// Every line of a TerminalLog batch in order, superseded progress states included.
    void parseLines(const QList<LogLine> &lines, QList<MetricPoint> &out);

    /// The current epoch as the log last reported it; NaN when unknown.
    double epoch() const { return m_epoch; }
    /// The current step (step keys, training-loop counters); -1 when unknown.
    qint64 step() const { return m_step; }
    /// M of the last "Epoch N/M"; 0 when unknown.
    int totalEpochs() const { return m_totalEpochs; }

    /// Seconds of training left as of etaLogTime(): the running loop's remaining time plus
    /// the epochs still to come times the measured epoch duration. Empty when the log does
    /// not tell (no progress bar seen yet).
    std::optional<double> etaSeconds() const;
    /// The log time the estimate was made at.
    double etaLogTime() const;

    /// Forgets the context and the estimate (a new session); user patterns stay.
    void reset();

private:
    enum class PairKind : quint8 { Metric, Epoch, Step };
    struct Pair
    {
        QStringView key;
        double value = 0;
        qint64 total = -1; ///< M of an "N/M" value, -1 for a plain number
        PairKind kind = PairKind::Metric;
    };
    static PairKind kindOf(QStringView key);
    struct UserPattern
    {
        QRegularExpression re;
        QStringList names;
    };

    bool parseDict(QStringView line, double time, QList<MetricPoint> &out);
    bool parseTqdm(QStringView line, qsizetype percent, double time, QList<MetricPoint> &out);
    bool parseKeras(QStringView line, double time, QList<MetricPoint> &out);
    void parseEpochMarker(QStringView line, double time, qsizetype at);
    void parseHeader(QStringView line);
    void scanPairs(QStringView text);
    void emitPairs(double time, QList<MetricPoint> &out, bool applyEpochIndex = true);
    void applyUserPatterns(QStringView line, double time, QList<MetricPoint> &out,
                           qsizetype firstOfLine);
    bool isBarStale() const;
    void addPoint(QStringView series, double value, double time, QList<MetricPoint> &out);
    bool isTrainingBar(QStringView desc, qint64 total, bool lossInPostfix) const;
    void updateLoop(qint64 n, qint64 total, double elapsed, double remaining, double time);
    void setEpochIndex(int n, int total, double time);
    const QString &intern(QStringView name);

    std::vector<UserPattern> m_patterns;
    std::vector<Pair> m_pairs;
    std::vector<QString> m_names; ///< series names, shared by all their points
    QString m_overflowName;
    size_t m_internHint = 0;

    double m_epoch;
    qint64 m_step = -1;
    int m_epochIndex = 0;     ///< N of "Epoch N/M"
    int m_totalEpochs = 0;    ///< M of "Epoch N/M"
    double m_epochStart = -1; ///< log time epoch m_epochIndex began
    double m_epochDuration = -1;
    qint64 m_trainTotal = 0; ///< HF "Total optimization steps"
    qint64 m_loopTotal = 0;  ///< total of the training progress bar
    bool m_loopDone = false;
    bool m_loopPerEpoch = false;
    int m_loopEpoch = 0; ///< m_epochIndex when the bar last moved
    double m_loopRemaining = -1;
    double m_loopDuration = -1;
    double m_loopTime = 0;
};

} // namespace kd
