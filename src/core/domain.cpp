#include "domain.h"

namespace kd {

Accelerator acceleratorOf(const QString &machineShape)
{
    if (machineShape.startsWith(u"Tpu", Qt::CaseInsensitive))
        return Accelerator::Tpu;
    if (machineShape.startsWith(u"Nvidia", Qt::CaseInsensitive))
        return Accelerator::Gpu;
    return Accelerator::None;
}

} // namespace kd
