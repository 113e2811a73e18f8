#pragma once

#include "domain.h"

#include <QWidget>

#include <memory>

namespace kd {

class Deck;

/// The Info tab: kernel metadata, sources, accelerator, versions and the failure message.
class RunInfoView final : public QWidget
{
    Q_OBJECT
public:
    explicit RunInfoView(Deck *deck, QWidget *parent = nullptr);
    ~RunInfoView() override;

    void setRun(RunId run);

protected:
    void changeEvent(QEvent *event) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
