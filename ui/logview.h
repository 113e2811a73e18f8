#pragma once

#include "domain.h"

#include <QWidget>

#include <memory>

namespace kd {

class Deck;

/// The Log tab: the selected run's log tail with follow, search, stream toggles, wrap, copy, open
/// the full log and jump to the first error.
class LogView final : public QWidget
{
    Q_OBJECT
public:
    explicit LogView(Deck *deck, QWidget *parent = nullptr);
    ~LogView() override;

    /// Shows this run's latest session (0 = none, with an explanation).
    void setRun(RunId run);
    RunId run() const;
    void focusSearch();          ///< "/" shortcut
    void setFollow(bool follow); ///< "f" toggles
    bool isFollowing() const;
    void findNext();
    void findPrevious();
    void jumpToFirstError();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
