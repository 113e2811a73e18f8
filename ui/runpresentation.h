#pragma once

// How a run's state reads in the UI: one place turns states and typed errors into words,
// icons and colours, so the table, sidebar, tray and detail pane agree.

#include "apierror.h"
#include "runtablemodel.h"

#include <QIcon>
#include <QString>

namespace kd {
struct RunState;
}

namespace kd::present {

/// "Running", "Queued", "Not found", "Stale: offline"...
QString stateText(const RunState &state);
/// Several lines: what the state means, the failure message or Kaggle's error, the last
/// known state of a stale run. Never empty for a run.
QString stateDetails(const RunState &state);
/// True when Kaggle says the kernel has no session (never run): not an error to the user.
bool hasNoSession(const RunState &state);
/// The sidebar's name of a category: "All", "Running"...
QString categoryName(RunCategory category);
/// The state icon of a category (":/icons/state-*.svg").
QIcon categoryIcon(RunCategory category);
QIcon stateIcon(const RunState &state);
/// "GPU T4 ×2", "GPU P100", "TPU v3-8", "CPU".
QString acceleratorName(const QString &machineShape);
/// A short reason for a failed poll: "offline", "not found", "credentials rejected".
QString errorReason(ApiError::Kind kind);
/// The kaggle.com page of a kernel.
QUrl kernelUrl(const KernelRef &ref);

} // namespace kd::present
