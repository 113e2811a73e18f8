#pragma once

#include "chainrunner.h"
#include "domain.h"

#include <QDialog>

#include <memory>

namespace kd {

class Deck;

/// Creates a chain for a kernel (ChainRunner::create) and starts it: name, handoff mode
/// (kernel_sources or a dataset version, each explained in one line), checkpoint pattern and
/// stop rules. Problems are shown under the field they concern; the dialog stays open.
class ChainDialog final : public QDialog
{
    Q_OBJECT
public:
    /// `kernel` preselects the kernel; the picker lists the watched kernels.
    explicit ChainDialog(Deck *deck, const KernelRef &kernel = {}, QWidget *parent = nullptr);
    ~ChainDialog() override;

    /// The spec Create & start would pass to ChainRunner::create.
    ChainSpec spec() const;
    /// The created chain; 0 until then.
    ChainId chainId() const;

signals:
    /// The chain was created (and started, unless `startError` says why not).
    void chainCreated(kd::ChainId id, const QString &startError);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
