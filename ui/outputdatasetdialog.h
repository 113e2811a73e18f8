#pragma once

#include "domain.h"
#include "outputtransfer.h"

#include <QDialog>

#include <memory>

namespace kd {

class Deck;

/// Output -> Dataset, one click from a finished run: lists the run's outputs (every page) with
/// checkboxes and a glob pattern, asks for the target (a new dataset or a new version of an
/// existing one, validated as the CLI validates them, errors under each field), the download
/// folder and an optional "attach to a kernel and commit it"; Start runs an OutputToDataset job
/// with a progress bar (bytes and ETA), a log of its steps and Cancel (the .part files are kept
/// for a resume with the same folder). The choices are remembered in the store: the second
/// time the form is prefilled (a new version of the dataset made the first time) and the focus
/// is on Start.
class OutputDatasetDialog final : public QDialog
{
    Q_OBJECT
public:
    OutputDatasetDialog(Deck *deck, RunId run, QWidget *parent = nullptr);
    ~OutputDatasetDialog() override;

    /// Replaces the listed outputs (normally they come from Kaggle when the dialog opens).
    /// Names that could escape the download folder are shown as refused and cannot be chosen.
    void setOutputs(const QList<OutputFile> &outputs);
    /// The names of the listed outputs, in listing order.
    QStringList outputNames() const;
    /// The names currently checked.
    QStringList checkedNames() const;
    /// The request Start would send, built from the form.
    OutputToDatasetRequest request() const;
    /// Options of the transfer jobs the dialog starts (polling intervals; the data folder
    /// defaults to the deck's).
    void setTransferOptions(const OutputToDataset::Options &options);
    /// The running or last job; null before the first Start.
    OutputToDataset *job() const;
    /// The dataset ref once READY; empty otherwise.
    QString readyRef() const;

public slots:
    /// Close and Escape: a running transfer is cancelled first (its .part files are kept).
    void reject() override;

signals:
    void outputsLoaded();
    /// The transfer job changed state (the dialog's own job).
    void transferStateChanged(kd::OutputToDataset::State state);
    /// The transfer ended: the dataset ref, or the error (Kind::Cancelled after Cancel).
    void transferFinished(const kd::Result<QString> &datasetRef);
    /// The attach-and-commit step ended; `message` says how.
    void attachFinished(bool ok, const QString &message);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
