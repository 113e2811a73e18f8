#pragma once

// kernel-metadata.json and dataset-metadata.json folders, read and written as the official
// CLI does (kaggle-api.md sections 4 and 5.5).

#include "apierror.h"
#include "types.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace kd {

/// The keys of kernel-metadata.json (section 4), with the CLI's defaults.
struct KernelFolderMetadata
{
    QString id;                    ///< owner/kernel-slug
    std::optional<qint64> idNo;    ///< numeric id; preferred over id when present
    QString title;
    QString codeFile;              ///< as written in the file (relative to the folder, or absolute)
    QString language;              ///< python | r | rmarkdown
    QString kernelType;            ///< script | notebook
    bool isPrivate = true;
    bool enableGpu = false;
    bool enableTpu = false;
    bool enableInternet = true;    ///< the CLI's code default (its docs say false)
    QString machineShape;
    QStringList datasetSources;
    QStringList competitionSources;
    QStringList kernelSources;
    QStringList modelSources;
    QStringList keywords;
    QString dockerImagePinningType; ///< original | latest | empty
    QString dockerImage;
};

/// A kernel folder ready to push: metadata, the code file's absolute path and its text.
struct KernelFolder
{
    QString folder;
    KernelFolderMetadata metadata;
    QString codeFilePath;
    QString codeText; ///< for notebooks: outputs cleared and list sources joined, as the CLI does
};

/// Known accelerator ids for machine_shape (section 4).
const QStringList &knownMachineShapes();

/// Reads and validates `folder/kernel-metadata.json` and its code file. Errors
/// (ApiError::Kind::Invalid) name the key and the problem, e.g.
/// "kernel-metadata.json: is_private must be true or false, got \"maybe\"".
Result<KernelFolder> readKernelFolder(const QString &folder);
/// Writes `folder/kernel-metadata.json` (pretty, CLI key order) and, when `code` is given,
/// the code file. Fails with Kind::Io on a write error and leaves no half-written file.
Result<Done> writeKernelFolder(const QString &folder, const KernelFolderMetadata &metadata,
                               const std::optional<QString> &code = std::nullopt);
/// The push request the CLI would build from a folder.
SaveKernelRequest toSaveKernelRequest(const KernelFolder &folder);
/// Metadata as `kaggle kernels pull -m` writes it from a GetKernel response.
KernelFolderMetadata fromPull(const KernelPull &pull, const QString &codeFile);
/// Default code file name for a pulled kernel (.py/.ipynb/.R/.Rmd/...).
QString defaultCodeFileName(const KernelBlob &blob);

/// The keys of dataset-metadata.json (section 5.5).
struct DatasetFolderMetadata
{
    QString title;
    QString id;                 ///< owner/slug
    std::optional<qint64> idNo; ///< preferred for versions
    QString subtitle;
    QString description;
    QString license;            ///< the single licenses[].name
    QStringList keywords;
};

const QStringList &knownLicenses();

/// Reads `folder/dataset-metadata.json` (or the legacy datapackage.json) and validates it as
/// the CLI does: exactly one licence, slug 6-50, title 6-50, subtitle 20-80 when present,
/// no INSERT_SLUG_HERE / INSERT_TITLE_HERE placeholders.
Result<DatasetFolderMetadata> readDatasetMetadata(const QString &folder);
Result<Done> writeDatasetMetadata(const QString &folder, const DatasetFolderMetadata &metadata);
/// The same validation on its own, for dialogs. Returns an error naming the field.
std::optional<ApiError> validateDatasetMetadata(const DatasetFolderMetadata &metadata);

} // namespace kd
