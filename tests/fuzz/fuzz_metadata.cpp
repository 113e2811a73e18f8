// libFuzzer target: kernel-metadata.json and dataset-metadata.json reading
// (src/kaggle/metadata.h). The readers take a folder, so the input is written into a folder
// under a temporary directory made once per process. Input: one selector byte, then:
//   selector % 3 == 0: kernel folder. The text up to the first NUL byte is kernel-metadata.json;
//                      the rest is written as both code.py and code.ipynb (seeds name one of
//                      them in code_file). A folder that reads fine is written back with
//                      writeKernelFolder and must read back to the same metadata.
//   selector % 3 == 1: dataset-metadata.json; a valid one is written back with
//                      writeDatasetMetadata into another folder and must read back the same.
//   selector % 3 == 2: the legacy datapackage.json.

#include "fuzzcommon.h"
#include "metadata.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

using namespace kd;

namespace {

struct Folders
{
    QTemporaryDir root{QDir(QFile::exists(QStringLiteral("/dev/shm")) ? QStringLiteral("/dev/shm")
                                                                      : QDir::tempPath())
                           .filePath(QStringLiteral("kd-fuzz-metadata-XXXXXX"))};
    QString kernel = root.filePath(QStringLiteral("kernel"));
    QString dataset = root.filePath(QStringLiteral("dataset"));
    QString datasetBack = root.filePath(QStringLiteral("dataset-back"));
    QString legacy = root.filePath(QStringLiteral("legacy"));

    Folders()
    {
        fuzz::check(root.isValid(), "temporary directory");
        for (const QString &f : {kernel, dataset, datasetBack, legacy})
            fuzz::check(QDir().mkpath(f), "temporary folder");
    }
};

Folders &folders()
{
    static Folders f;
    return f;
}

void save(const QString &path, QByteArrayView data)
{
    QFile f(path);
    fuzz::check(f.open(QIODevice::WriteOnly | QIODevice::Truncate), "write a temporary file");
    fuzz::check(f.write(data.data(), data.size()) == data.size(), "write a temporary file");
}

bool sameKernel(const KernelFolderMetadata &a, const KernelFolderMetadata &b)
{
    return a.id == b.id && a.idNo == b.idNo && a.title == b.title && a.codeFile == b.codeFile &&
           a.language == b.language && a.kernelType == b.kernelType && a.isPrivate == b.isPrivate &&
           a.enableGpu == b.enableGpu && a.enableTpu == b.enableTpu &&
           a.enableInternet == b.enableInternet && a.machineShape == b.machineShape &&
           a.datasetSources == b.datasetSources && a.competitionSources == b.competitionSources &&
           a.kernelSources == b.kernelSources && a.modelSources == b.modelSources &&
           a.keywords == b.keywords && a.dockerImagePinningType == b.dockerImagePinningType &&
           a.dockerImage == b.dockerImage;
}

bool sameDataset(const DatasetFolderMetadata &a, const DatasetFolderMetadata &b)
{
    return a.title == b.title && a.id == b.id && a.idNo == b.idNo && a.subtitle == b.subtitle &&
           a.description == b.description && a.license == b.license && a.keywords == b.keywords;
}

void kernel(QByteArrayView in)
{
    const Folders &f = folders();
    const qsizetype nul = in.indexOf('\0');
    const QByteArrayView meta = nul < 0 ? in : in.first(nul);
    const QByteArrayView code = nul < 0 ? QByteArrayView() : in.sliced(nul + 1);
    save(QDir(f.kernel).filePath(QStringLiteral("kernel-metadata.json")), meta);
    save(QDir(f.kernel).filePath(QStringLiteral("code.py")), code);
    save(QDir(f.kernel).filePath(QStringLiteral("code.ipynb")), code);

    const auto read = readKernelFolder(f.kernel);
    if (!read.ok()) {
        fuzz::check(!read.error().message.isEmpty(), "a metadata error has a message");
        return;
    }
    (void)toSaveKernelRequest(*read);
    // Metadata only: the code file stays where it is (it may even be absolute).
    const auto written = writeKernelFolder(f.kernel, read->metadata);
    fuzz::check(written.ok(), "valid kernel metadata can be written");
    const auto again = readKernelFolder(f.kernel);
    fuzz::check(again.ok(), "written kernel metadata reads back");
    fuzz::check(sameKernel(read->metadata, again->metadata), "kernel metadata round trip");
    fuzz::check(read->codeText == again->codeText, "kernel code round trip");
}

void dataset(QByteArrayView in, bool legacyName)
{
    const Folders &f = folders();
    const QString &folder = legacyName ? f.legacy : f.dataset;
    save(QDir(folder).filePath(legacyName ? QStringLiteral("datapackage.json")
                                          : QStringLiteral("dataset-metadata.json")),
         in);
    const auto read = readDatasetMetadata(folder);
    if (!read.ok()) {
        fuzz::check(!read.error().message.isEmpty(), "a metadata error has a message");
        return;
    }
    fuzz::check(!validateDatasetMetadata(*read).has_value(), "read metadata is valid");
    const auto written = writeDatasetMetadata(f.datasetBack, *read);
    fuzz::check(written.ok(), "valid dataset metadata can be written");
    const auto again = readDatasetMetadata(f.datasetBack);
    fuzz::check(again.ok(), "written dataset metadata reads back");
    fuzz::check(sameDataset(*read, *again), "dataset metadata round trip");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietQt();
    (void)folders();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const QByteArrayView in = fuzz::rest(data, size);
    switch (data[0] % 3) {
    case 0:
        kernel(in);
        break;
    case 1:
        dataset(in, false);
        break;
    default:
        dataset(in, true);
        break;
    }
    return 0;
}
