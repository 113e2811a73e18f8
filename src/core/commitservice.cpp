#include "commitservice.h"

#include "kaggleclient.h"
#include "persistence.h"
#include "quotamodel.h"
#include "runmonitor.h"

#include <QLoggingCategory>
#include <QRegularExpression>

#include <algorithm>

namespace kd {

namespace {

Q_LOGGING_CATEGORY(lcCommit, "kaggledeck.commit", QtInfoMsg)

const QString kMetadataPrefix = QStringLiteral("kernel-metadata.json: ");

bool isOwnerSlug(const QString &value)
{
    const QStringList parts = value.split(u'/');
    return parts.size() == 2 && !parts.at(0).trimmed().isEmpty() &&
           !parts.at(1).trimmed().isEmpty();
}

QString canonicalShape(const QString &shape)
{
    for (const QString &known : knownMachineShapes()) {
        if (known.compare(shape, Qt::CaseInsensitive) == 0)
            return known;
    }
    return {};
}

struct KeyField
{
    QLatin1StringView key;
    CommitField field;
};

// Longer keys first where one is a prefix of another (id_no / id, docker_image_pinning_type).
constexpr KeyField kMetadataKeys[] = {
    {QLatin1StringView("id_no"), CommitField::Slug},
    {QLatin1StringView("id"), CommitField::Slug},
    {QLatin1StringView("title"), CommitField::Title},
    {QLatin1StringView("code_file"), CommitField::Code},
    {QLatin1StringView("language"), CommitField::Language},
    {QLatin1StringView("kernel_type"), CommitField::KernelType},
    {QLatin1StringView("is_private"), CommitField::Privacy},
    {QLatin1StringView("enable_gpu"), CommitField::Accelerator},
    {QLatin1StringView("enable_tpu"), CommitField::Accelerator},
    {QLatin1StringView("enable_internet"), CommitField::Internet},
    {QLatin1StringView("machine_shape"), CommitField::Accelerator},
    {QLatin1StringView("dataset_sources"), CommitField::DatasetSources},
    {QLatin1StringView("competition_sources"), CommitField::CompetitionSources},
    {QLatin1StringView("kernel_sources"), CommitField::KernelSources},
    {QLatin1StringView("model_sources"), CommitField::ModelSources},
    {QLatin1StringView("keywords"), CommitField::Tags},
    {QLatin1StringView("docker_image_pinning_type"), CommitField::DockerImage},
    {QLatin1StringView("docker_image"), CommitField::DockerImage},
};

constexpr KeyField kInvalidLists[] = {
    {QLatin1StringView("invalidDatasetSources"), CommitField::DatasetSources},
    {QLatin1StringView("invalidKernelSources"), CommitField::KernelSources},
    {QLatin1StringView("invalidCompetitionSources"), CommitField::CompetitionSources},
    {QLatin1StringView("invalidModelSources"), CommitField::ModelSources},
    {QLatin1StringView("invalidTags"), CommitField::Tags},
};

/// The field a server message is about, from the texts Kaggle (and the simulator) use.
CommitField fieldOfServerMessage(const QString &m)
{
    const auto has = [&m](const char *text) {
        return m.contains(QLatin1StringView(text), Qt::CaseInsensitive);
    };
    if (has("machine shape") || has("accelerator"))
        return CommitField::Accelerator;
    if (has("sessionTimeoutSeconds") || has("timeout"))
        return CommitField::Timeout;
    if (has("title"))
        return CommitField::Title;
    if (has("language"))
        return CommitField::Language;
    if (has("kernel type"))
        return CommitField::KernelType;
    if (has("source text"))
        return CommitField::Code;
    if (has("kernelExecutionType"))
        return CommitField::ExecutionType;
    if (has("docker"))
        return CommitField::DockerImage;
    if (has("kernel slug") || has("kernel not found") || has("notebook not found") ||
        has("kernel id"))
        return CommitField::Slug;
    return CommitField::General;
}

QList<FieldError> invalidListWarnings(const SaveKernelResponse &r)
{
    QList<FieldError> out;
    const auto add = [&out](CommitField field, const QStringList &items, const char *what) {
        if (!items.isEmpty())
            out.append(
                {field, QStringLiteral("Kaggle dropped unknown or inaccessible %1: %2")
                            .arg(QLatin1StringView(what), items.join(QStringLiteral(", ")))});
    };
    add(CommitField::DatasetSources, r.invalidDatasetSources, "dataset sources");
    add(CommitField::KernelSources, r.invalidKernelSources, "kernel sources");
    add(CommitField::CompetitionSources, r.invalidCompetitionSources, "competition sources");
    add(CommitField::ModelSources, r.invalidModelSources, "model sources");
    add(CommitField::Tags, r.invalidTags, "tags");
    return out;
}

} // namespace

QString commitFieldName(CommitField field)
{
    switch (field) {
    case CommitField::General:
        return QStringLiteral("commit");
    case CommitField::Metadata:
        return QStringLiteral("kernel-metadata.json");
    case CommitField::Slug:
        return QStringLiteral("kernel id");
    case CommitField::Title:
        return QStringLiteral("title");
    case CommitField::Code:
        return QStringLiteral("code file");
    case CommitField::Language:
        return QStringLiteral("language");
    case CommitField::KernelType:
        return QStringLiteral("kernel type");
    case CommitField::Accelerator:
        return QStringLiteral("accelerator");
    case CommitField::Timeout:
        return QStringLiteral("timeout");
    case CommitField::Privacy:
        return QStringLiteral("privacy");
    case CommitField::Internet:
        return QStringLiteral("internet");
    case CommitField::ExecutionType:
        return QStringLiteral("run mode");
    case CommitField::DatasetSources:
        return QStringLiteral("dataset sources");
    case CommitField::KernelSources:
        return QStringLiteral("kernel sources");
    case CommitField::CompetitionSources:
        return QStringLiteral("competition sources");
    case CommitField::ModelSources:
        return QStringLiteral("model sources");
    case CommitField::Tags:
        return QStringLiteral("tags");
    case CommitField::DockerImage:
        return QStringLiteral("docker image");
    }
    return {};
}

void CommitDraft::setAccelerator(const QString &machineShape)
{
    request.machineShape = machineShape;
    metadata.machineShape = machineShape;
    const Accelerator a = acceleratorOf(machineShape);
    request.enableGpu = metadata.enableGpu = a == Accelerator::Gpu;
    request.enableTpu = metadata.enableTpu = a == Accelerator::Tpu;
}

void CommitDraft::setQuickSave(bool quickSave)
{
    request.kernelExecutionType =
        quickSave ? KernelExecutionType::QuickSave : KernelExecutionType::SaveAndRunAll;
}

CommitService::CommitService(KaggleClient *client, RunMonitor *monitor, QObject *parent)
    : QObject(parent), m_client(client), m_monitor(monitor)
{}

Result<CommitDraft> CommitService::prepareFromFolder(const QString &dir) const
{
    Result<KernelFolder> folder = readKernelFolder(dir);
    if (!folder)
        return folder.error();
    CommitDraft d;
    d.origin = CommitDraft::Origin::Folder;
    d.folder = dir;
    d.metadata = folder->metadata;
    d.request = toSaveKernelRequest(*folder);
    if (const auto ref = KernelRef::parse(d.metadata.id))
        d.ref = *ref;
    // Without id_no the CLI pushes by slug; an unwatched slug may well be a new kernel.
    d.isNew = !d.metadata.idNo && !(m_monitor && d.ref.isValid() && m_monitor->runByRef(d.ref));
    return d;
}

void CommitService::prepareFromKernel(const KernelRef &ref, DraftCallback done)
{
    m_client->getKernel(ref, this, [ref, done = std::move(done)](Result<KernelPull> pull) {
        if (!pull) {
            ApiError error = pull.error();
            error.message =
                QStringLiteral("Could not pull %1: %2").arg(ref.toString(), error.message);
            done(error);
            return;
        }
        KernelFolder folder;
        folder.metadata = fromPull(*pull, defaultCodeFileName(pull->blob));
        if (folder.metadata.id.isEmpty())
            folder.metadata.id = ref.toString();
        folder.codeText = pull->blob.source;
        CommitDraft d;
        d.origin = CommitDraft::Origin::Kernel;
        d.ref = ref;
        d.metadata = folder.metadata;
        d.request = toSaveKernelRequest(folder);
        d.pulledVersion = pull->metadata.currentVersionNumber;
        done(std::move(d));
    });
}

QString effectiveMachineShape(const SaveKernelRequest &r)
{
    if (!r.machineShape.isEmpty())
        return r.machineShape;
    if (r.enableTpu)
        return QStringLiteral("TpuV38");
    if (r.enableGpu)
        return QStringLiteral("NvidiaTeslaP100");
    return {};
}

QList<FieldError> CommitService::validate(const CommitDraft &draft)
{
    const SaveKernelRequest &r = draft.request;
    QList<FieldError> out;
    const auto fail = [&out](CommitField f, const QString &m) { out.append({f, m}); };

    if (!r.id && r.slug.trimmed().isEmpty())
        fail(CommitField::Slug, QStringLiteral("A kernel id (owner/kernel-slug) is required"));
    else if (!r.slug.isEmpty() && !isOwnerSlug(r.slug))
        fail(CommitField::Slug,
             QStringLiteral("The kernel id must be owner/kernel-slug, got \"%1\"").arg(r.slug));
    if (!r.newTitle.isEmpty() && r.newTitle.trimmed().size() < 5)
        fail(CommitField::Title, QStringLiteral("The title must be at least five characters"));
    else if (r.newTitle.isEmpty() && draft.isNew)
        fail(CommitField::Title, QStringLiteral("A new kernel needs a title (at least five "
                                                "characters); Kaggle derives its slug from it"));
    static const QStringList languages = {QStringLiteral("python"), QStringLiteral("r"),
                                          QStringLiteral("rmarkdown")};
    if (!languages.contains(r.language))
        fail(CommitField::Language,
             QStringLiteral("The language must be python, r or rmarkdown, got \"%1\"")
                 .arg(r.language));
    static const QStringList types = {QStringLiteral("script"), QStringLiteral("notebook")};
    if (!types.contains(r.kernelType))
        fail(CommitField::KernelType,
             QStringLiteral("The kernel type must be script or notebook, got \"%1\"")
                 .arg(r.kernelType));
    if (r.text.isEmpty())
        fail(CommitField::Code, QStringLiteral("The code is empty"));
    if (!r.machineShape.isEmpty() && canonicalShape(r.machineShape).isEmpty())
        fail(CommitField::Accelerator,
             QStringLiteral("\"%1\" is not a known accelerator (known: %2)")
                 .arg(r.machineShape, knownMachineShapes().join(QStringLiteral(", "))));
    const Accelerator a = acceleratorOf(effectiveMachineShape(r));
    const double cap = QuotaForecast::runCapSeconds(a);
    if (r.sessionTimeoutSeconds < 0 || r.sessionTimeoutSeconds > cap)
        fail(CommitField::Timeout,
             QStringLiteral("The timeout must be between 0 and %1 hours on %2")
                 .arg(QString::number(cap / 3600), a == Accelerator::Tpu
                                                       ? QStringLiteral("TPU")
                                                       : QStringLiteral("GPU and CPU")));
    for (const QString &s : r.datasetDataSources) {
        if (!isOwnerSlug(s))
            fail(CommitField::DatasetSources,
                 QStringLiteral("Dataset source \"%1\" must be owner/dataset-slug").arg(s));
    }
    for (const QString &s : r.kernelDataSources) {
        if (!isOwnerSlug(s))
            fail(CommitField::KernelSources,
                 QStringLiteral("Kernel source \"%1\" must be owner/kernel-slug").arg(s));
    }
    for (const QString &s : r.competitionDataSources) {
        if (s.trimmed().isEmpty() || s.contains(u'/'))
            fail(CommitField::CompetitionSources,
                 QStringLiteral("Competition source \"%1\" must be a competition slug").arg(s));
    }
    for (const QString &s : r.modelDataSources) {
        const QStringList parts = s.split(u'/');
        const bool shapeOk = (parts.size() == 4 || parts.size() == 5) &&
                             std::none_of(parts.cbegin(), parts.cend(),
                                          [](const QString &p) { return p.trimmed().isEmpty(); });
        if (!shapeOk)
            fail(CommitField::ModelSources,
                 QStringLiteral("Model source \"%1\" must be "
                                "owner/model/framework/variation[/version]")
                     .arg(s));
    }
    if (!r.dockerImagePinningType.isEmpty() && r.dockerImagePinningType != u"original" &&
        r.dockerImagePinningType != u"latest")
        fail(CommitField::DockerImage,
             QStringLiteral("The docker image pinning must be original or latest"));
    return out;
}

QList<FieldError> CommitService::fieldErrors(const ApiError &error)
{
    QList<FieldError> out;
    if (error.kind == ApiError::Kind::Invalid || error.kind == ApiError::Kind::Io) {
        if (error.message.startsWith(kMetadataPrefix)) {
            const QString rest = error.message.mid(kMetadataPrefix.size());
            for (const KeyField &k : kMetadataKeys) {
                if (!rest.startsWith(k.key))
                    continue;
                const qsizetype n = k.key.size();
                if (rest.size() == n || !(rest.at(n).isLetterOrNumber() || rest.at(n) == u'_')) {
                    out.append({k.field, error.message});
                    return out;
                }
            }
            out.append({CommitField::Metadata, error.message});
            return out;
        }
    }
    for (const QString &line : error.details) {
        for (const KeyField &k : kInvalidLists) {
            if (line.startsWith(k.key) && line.mid(k.key.size()).startsWith(u':'))
                out.append({k.field, QStringLiteral("Not found or not accessible: %1")
                                         .arg(line.mid(k.key.size() + 1).trimmed())});
        }
    }
    if (out.isEmpty())
        out.append({error.kind == ApiError::Kind::Application ? fieldOfServerMessage(error.message)
                                                              : CommitField::General,
                    error.message});
    return out;
}

std::optional<int> CommitService::gpuSessionLimit(const ApiError &error)
{
    static const QRegularExpression limit(
        QStringLiteral("Maximum batch GPU session count of (\\d+) reached"),
        QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch m = limit.match(error.message);
    if (!m.hasMatch())
        return std::nullopt;
    return m.captured(1).toInt();
}

QuotaEffect CommitService::quotaEffect(const CommitDraft &draft, const QuotaModel *quota)
{
    QuotaEffect e;
    e.accelerator = acceleratorOf(effectiveMachineShape(draft.request));
    if (e.accelerator == Accelerator::None) {
        e.text = QStringLiteral("This run uses no GPU quota (CPU only).");
        return e;
    }
    e.maxSeconds = QuotaForecast::runCapSeconds(e.accelerator, draft.request.sessionTimeoutSeconds);
    const QString kind =
        e.accelerator == Accelerator::Tpu ? QStringLiteral("TPU") : QStringLiteral("GPU");
    e.text = QStringLiteral("This run may use up to %1 of %2")
                 .arg(QuotaForecast::formatHours(e.maxSeconds), kind);
    const auto f = quota ? quota->forecast(e.accelerator) : std::nullopt;
    if (!f) {
        e.text += QStringLiteral("; the remaining quota is not known yet.");
        return e;
    }
    e.remainingSeconds = std::max(0.0, f->remainingNowSeconds);
    e.refreshTime = f->refreshTime;
    e.fits = e.maxSeconds <= f->remainingAfterSeconds;
    e.text += QStringLiteral("; %1 remain").arg(QuotaForecast::formatHours(*e.remainingSeconds));
    if (e.refreshTime.isValid())
        e.text +=
            QStringLiteral(" until %1")
                .arg(e.refreshTime.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'")));
    e.text += u'.';
    if (!e.fits)
        e.text += QStringLiteral(" With the runs already going, the quota may run out before "
                                 "this one reaches its limit.");
    return e;
}

SaveKernelRequest CommitService::requestFor(const CommitDraft &draft) const
{
    SaveKernelRequest r = draft.request;
    if (!m_monitor)
        return r;
    const auto ref = KernelRef::parse(r.slug);
    const KernelRef target = ref ? *ref : draft.ref;
    if (!target.isValid())
        return r;
    const auto run = m_monitor->runByRef(target);
    if (!run)
        return r;
    const RunState *state = m_monitor->state(*run);
    if (!state || !persistence::carriesFiles(persistence::modeOf(state->run.settings)))
        return r;
    const QString self = state->run.ref.toString();
    if (!r.kernelDataSources.contains(self, Qt::CaseInsensitive))
        r.kernelDataSources.append(self);
    return r;
}

void CommitService::commit(const CommitDraft &draft, CommitCallback done)
{
    const QList<FieldError> problems = validate(draft);
    if (!problems.isEmpty()) {
        CommitOutcome o;
        o.status = CommitOutcome::Status::Invalid;
        o.fieldErrors = problems;
        o.error = ApiError::make(ApiError::Kind::Invalid, problems.first().message);
        done(std::move(o));
        return;
    }
    const SaveKernelRequest request = requestFor(draft);
    qCInfo(lcCommit).noquote() << "pushing"
                               << (request.slug.isEmpty() ? QStringLiteral("id") : request.slug);
    m_client->saveKernel(request, this,
                         [this, request, done = std::move(done)](Result<SaveKernelResponse> r) {
                             if (r) {
                                 onPushed(request, *r, done);
                                 return;
                             }
                             CommitOutcome o;
                             o.error = r.error();
                             if (const auto n = gpuSessionLimit(r.error())) {
                                 o.status = CommitOutcome::Status::GpuLimitReached;
                                 o.gpuSessionLimit = *n;
                             } else {
                                 o.status = CommitOutcome::Status::Failed;
                                 o.fieldErrors = fieldErrors(r.error());
                             }
                             done(std::move(o));
                         });
}

void CommitService::onPushed(const SaveKernelRequest &sent, const SaveKernelResponse &response,
                             const CommitCallback &done)
{
    CommitOutcome o;
    o.status = CommitOutcome::Status::Pushed;
    o.receipt.ref = response.ref.isEmpty() ? sent.slug : response.ref;
    o.receipt.url = response.url;
    o.receipt.versionNumber = response.versionNumber;
    o.receipt.warnings = invalidListWarnings(response);
    if (m_monitor) {
        if (const auto ref = KernelRef::parse(o.receipt.ref)) {
            std::optional<RunId> run = m_monitor->runByRef(*ref);
            if (!run) {
                // No title: the monitor then fetches the title and accelerator from Kaggle.
                const Result<RunId> added = m_monitor->watch(ref->toString());
                if (added)
                    run = *added;
                else
                    o.receipt.warnings.append(
                        {CommitField::General,
                         QStringLiteral("Pushed, but %1 could not be watched: %2")
                             .arg(ref->toString(), added.error().message)});
            }
            if (run) {
                o.receipt.runId = *run;
                // A quick save runs nothing, so there is no session to track.
                if (sent.kernelExecutionType != KernelExecutionType::QuickSave)
                    m_monitor->notePush(*run, response.versionNumber, effectiveMachineShape(sent),
                                        sent.sessionTimeoutSeconds);
            }
        }
    }
    qCInfo(lcCommit).noquote() << "pushed" << o.receipt.ref << "version" << o.receipt.versionNumber;
    emit committed(o.receipt);
    done(std::move(o));
}

} // namespace kd
