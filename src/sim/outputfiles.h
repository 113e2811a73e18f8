#pragma once

// The files a finished session leaves in /kaggle/working. Content is a pure function of the
// session seed and the file name, so any byte range can be served without storing anything and
// a resumed download continues with exactly the bytes a fresh one would have had.

#include "loggenerator.h"
#include "scenario.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kd::sim {

/// A concrete output file: name, exact size and what its bytes derive from.
struct OutputFile
{
    std::string name;
    int64_t size = 0;
    uint64_t seed = 0;
};

/// Lists a session's outputs: the run's explicit "outputs", else one checkpoint directory per
/// finished epoch plus submission.csv when the run completed.
std::vector<OutputFile> sessionOutputs(const RunSpec &run, uint64_t sessionSeed,
                                       int completedEpochs, bool completed, const LossModel &loss);

/// Bytes [offset, offset + length) of a file (clamped to its size).
std::string readOutput(const OutputFile &file, const LossModel &loss, int64_t offset,
                       int64_t length);

} // namespace kd::sim
