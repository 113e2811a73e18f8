#pragma once

// Output file names come from the server (ListKernelSessionOutput `fileName`) and are
// untrusted: a name must never make KaggleDeck write outside the folder the user chose.

#include "apierror.h"

#include <QString>

#include <optional>

namespace kd {

/// Longest file name component we accept, in UTF-8 bytes (NAME_MAX on Linux and macOS), minus
/// the ".part" suffix a resumable download writes first.
inline constexpr int kMaxOutputComponentBytes = 255 - 5;
/// Longest full path we accept, in UTF-8 bytes (PATH_MAX minus the NUL and ".part").
inline constexpr int kMaxOutputPathBytes = 4096 - 1 - 5;

/// Checks the name alone, without touching the disk: rejects empty names, NUL and control
/// characters, backslashes, absolute paths, drive letters, empty, "." and ".." components and
/// components longer than kMaxOutputComponentBytes. The error (Kind::Invalid) names the file.
std::optional<ApiError> checkOutputName(const QString &fileName);

/// The absolute path where `fileName` (relative, '/'-separated) may be written inside
/// `targetDir`, with its parent folders created. Besides checkOutputName it refuses a path
/// that is too long, that leaves the target folder once cleaned, that goes through a symbolic
/// link already present inside the target (a folder, the file itself or its ".part"), and a
/// parent folder whose canonical path, after creation, is not inside the target's canonical
/// path. Naming problems are Kind::Invalid, a folder that cannot be created is Kind::Io; every
/// message names the file.
Result<QString> safeOutputPath(const QString &targetDir, const QString &fileName);

} // namespace kd
