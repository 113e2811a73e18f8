#pragma once

#include <QSortFilterProxyModel>

namespace kd {

class LogTailModel;

/// Hides the stdout or stderr lines of a LogTailModel (the stream toggles of the Log tab).
class LogFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit LogFilterProxy(QObject *parent = nullptr);

    void setSourceModel(QAbstractItemModel *model) override;
    LogTailModel *tail() const { return m_tail; }

    bool showsStdout() const { return m_stdout; }
    bool showsStderr() const { return m_stderr; }
    void setStreams(bool showStdout, bool showStderr);
    /// Whether a source row passes the stream toggles; cheaper than mapping it.
    bool acceptsSourceRow(int sourceRow) const;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    LogTailModel *m_tail = nullptr;
    bool m_stdout = true;
    bool m_stderr = true;
};

} // namespace kd
