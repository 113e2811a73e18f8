#include "logfilterproxy.h"

#include "logtailmodel.h"

namespace kd {

LogFilterProxy::LogFilterProxy(QObject *parent) : QSortFilterProxyModel(parent) {}

void LogFilterProxy::setSourceModel(QAbstractItemModel *model)
{
    m_tail = qobject_cast<LogTailModel *>(model);
    QSortFilterProxyModel::setSourceModel(model);
}

void LogFilterProxy::setStreams(bool showStdout, bool showStderr)
{
    if (showStdout == m_stdout && showStderr == m_stderr)
        return;
    m_stdout = showStdout;
    m_stderr = showStderr;
    invalidateFilter();
}

bool LogFilterProxy::acceptsSourceRow(int sourceRow) const
{
    if (m_stdout && m_stderr)
        return true;
    if (!m_stdout && !m_stderr)
        return false;
    bool isStderr = false;
    if (m_tail) {
        isStderr = m_tail->streamAt(sourceRow) == LogEvent::Stream::Stderr;
    } else if (QAbstractItemModel *model = sourceModel()) {
        isStderr = model->index(sourceRow, 0).data(LogTailModel::StreamRole).toInt() == 1;
    }
    return isStderr ? m_stderr : m_stdout;
}

bool LogFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    return !sourceParent.isValid() && acceptsSourceRow(sourceRow);
}

} // namespace kd
