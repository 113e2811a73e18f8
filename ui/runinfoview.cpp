#include "runinfoview.h"

#include "apierrortext.h"
#include "deck.h"
#include "format.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "logtailmodel.h"
#include "runmonitor.h"
#include "runpresentation.h"
#include "store.h"
#include "theme.h"

#include <QEvent>
#include <QFontDatabase>
#include <QFormLayout>
#include <QFrame>
#include <QHash>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPointer>
#include <QPushButton>
#include <QScrollArea>
#include <QTimer>
#include <QUrl>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace kd {

namespace {

using Rows = QList<std::pair<QString, QString>>;

QString link(const QUrl &url, const QString &text)
{
    return QStringLiteral("<a href=\"%1\">%2</a>")
        .arg(url.toString(QUrl::FullyEncoded).toHtmlEscaped(), text.toHtmlEscaped());
}

QUrl kaggleUrl(const QString &path)
{
    QUrl url(QStringLiteral("https://www.kaggle.com"));
    url.setPath(path);
    return url;
}

/// Source refs as links to their Kaggle pages, one per line; the refs come from the server and
/// are escaped.
QString sourceLinks(const QStringList &refs, const QString &section)
{
    QStringList items;
    for (const QString &ref : refs)
        items.append(link(kaggleUrl(QLatin1Char('/') + section + QLatin1Char('/') + ref), ref));
    return items.join(QStringLiteral("<br>"));
}

QString escapedList(const QStringList &items)
{
    QStringList escaped;
    for (const QString &item : items)
        escaped.append(item.toHtmlEscaped());
    return escaped.join(QStringLiteral(", "));
}

QString when(const QDateTime &at)
{
    if (!at.isValid())
        return {};
    const QString date = QLocale().toString(at.toLocalTime(), QLocale::ShortFormat);
    // Past a day, "ago" is itself a date: saying it twice helps nobody.
    if (std::abs(at.secsTo(QDateTime::currentDateTimeUtc())) >= 86400)
        return date;
    return QStringLiteral("%1 (%2)").arg(date, format::ago(at));
}

/// Kaggle spells these in lower case ("python", "notebook").
QString displayName(const QString &apiName)
{
    if (apiName.compare(u"python", Qt::CaseInsensitive) == 0)
        return QStringLiteral("Python");
    if (apiName.compare(u"r", Qt::CaseInsensitive) == 0)
        return QStringLiteral("R");
    if (apiName.compare(u"rmarkdown", Qt::CaseInsensitive) == 0)
        return QStringLiteral("R Markdown");
    if (apiName.isEmpty())
        return apiName;
    return apiName.at(0).toUpper() + apiName.mid(1);
}

QLabel *valueLabel(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setTextFormat(Qt::RichText);
    label->setWordWrap(true);
    label->setOpenExternalLinks(true);
    label->setTextInteractionFlags(Qt::TextBrowserInteraction);
    return label;
}

/// A titled form; rows are rebuilt only when their text changes, so a poll does not wipe the
/// user's text selection.
struct Section
{
    QLabel *title = nullptr;
    QWidget *body = nullptr;
    QFormLayout *form = nullptr;
    Rows rows;
    int labelWidth = 0; ///< the same for every section, so the values line up

    void create(const QString &text, QVBoxLayout *into, QWidget *parent)
    {
        title = new QLabel(text, parent);
        QFont bold = title->font();
        bold.setBold(true);
        title->setFont(bold);
        body = new QWidget(parent);
        form = new QFormLayout(body);
        form->setContentsMargins(12, 0, 0, 0);
        form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
        form->setRowWrapPolicy(QFormLayout::DontWrapRows);
        form->setLabelAlignment(Qt::AlignLeft | Qt::AlignTop);
        into->addWidget(title);
        into->addWidget(body);
    }
    void setRows(const Rows &newRows)
    {
        title->setVisible(!newRows.isEmpty());
        body->setVisible(!newRows.isEmpty());
        if (newRows == rows)
            return;
        rows = newRows;
        while (form->rowCount() > 0)
            form->removeRow(0);
        for (const auto &[name, value] : rows) {
            auto *nameLabel = new QLabel(name, body);
            nameLabel->setMinimumWidth(labelWidth);
            auto *label = valueLabel(body);
            label->setText(value);
            form->addRow(nameLabel, label);
            // Children added to a shown widget appear one event loop later; show them now so
            // the form never flashes empty.
            nameLabel->show();
            label->show();
        }
    }
};

} // namespace

struct RunInfoView::Private
{
    struct Metadata
    {
        enum class State { Loading, Loaded, Failed };
        State state = State::Loading;
        SessionId session = 0; ///< fetched for this session (a new run may bring a new version)
        KernelMetadata metadata;
        QString error;
        ApiError::Kind errorKind = ApiError::Kind::Network;
        KaggleClient::CallId call = 0;
    };

    RunInfoView *q;
    Deck *deck;
    RunId run = 0;
    QHash<RunId, Metadata> cache;
    /// The log tail the failure box quotes; its new lines refresh the box (a finished run's
    /// log arrives after its status, and a finished run is not polled again).
    QPointer<LogTailModel> quotedTail;
    QMetaObject::Connection tailConnection;
    QTimer tailTimer;

    QLabel *placeholder = nullptr;
    QWidget *content = nullptr;
    QLabel *title = nullptr;
    QLabel *ref = nullptr;
    QFrame *failure = nullptr;
    QLabel *failureTitle = nullptr;
    QLabel *failureText = nullptr;
    QLabel *stderrTitle = nullptr;
    QLabel *stderrText = nullptr;
    QLabel *stale = nullptr;
    Section session;
    Section kernel;
    Section sources;
    QWidget *metadataRow = nullptr;
    QLabel *metadataStatus = nullptr;
    QPushButton *retry = nullptr;

    Private(RunInfoView *view, Deck *d) : q(view), deck(d) {}
    static QString tr(const char *text, const char *disambiguation = nullptr, int n = -1)
    {
        return RunInfoView::tr(text, disambiguation, n);
    }

    void build();
    void update();
    void fetch(RunId id, SessionId sessionId);
    void styleFailure();
    QStringList lastStderrLines(RunId id);
    Rows sessionRows(const RunState &state) const;
    Rows kernelRows(const RunState &state, const Metadata *meta) const;
    Rows sourceRows(const Metadata *meta) const;
};

void RunInfoView::Private::build()
{
    auto *outer = new QVBoxLayout(q);
    outer->setContentsMargins(0, 0, 0, 0);

    placeholder = new QLabel(q);
    placeholder->setObjectName(QStringLiteral("infoPlaceholder"));
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setWordWrap(true);
    placeholder->setForegroundRole(QPalette::PlaceholderText);
    placeholder->setText(tr("Select a run to see its details."));
    outer->addWidget(placeholder);

    auto *scroll = new QScrollArea(q);
    scroll->setObjectName(QStringLiteral("infoScrollArea"));
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    content = new QWidget(scroll);
    content->setObjectName(QStringLiteral("infoContent"));
    auto *layout = new QVBoxLayout(content);
    layout->setContentsMargins(12, 10, 12, 10);
    layout->setSpacing(6);

    title = new QLabel(content);
    title->setObjectName(QStringLiteral("infoTitleLabel"));
    QFont big = title->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    title->setFont(big);
    title->setWordWrap(true);
    title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(title);

    ref = valueLabel(content);
    ref->setObjectName(QStringLiteral("infoRefLabel"));
    layout->addWidget(ref);

    failure = new QFrame(content);
    failure->setObjectName(QStringLiteral("infoFailureFrame"));
    auto *failureLayout = new QVBoxLayout(failure);
    failureLayout->setContentsMargins(10, 8, 10, 8);
    failureTitle = new QLabel(tr("This run failed"), failure);
    QFont bold = failureTitle->font();
    bold.setBold(true);
    failureTitle->setFont(bold);
    failureText = new QLabel(failure);
    failureText->setObjectName(QStringLiteral("infoFailureLabel"));
    failureText->setWordWrap(true);
    failureText->setTextFormat(Qt::PlainText);
    failureText->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    stderrTitle = new QLabel(tr("Last lines on stderr"), failure);
    stderrText = new QLabel(failure);
    stderrText->setObjectName(QStringLiteral("infoStderrLabel"));
    stderrText->setTextFormat(Qt::RichText);
    stderrText->setWordWrap(true);
    stderrText->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    stderrText->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    failureLayout->addWidget(failureTitle);
    failureLayout->addWidget(failureText);
    failureLayout->addSpacing(4);
    failureLayout->addWidget(stderrTitle);
    failureLayout->addWidget(stderrText);
    layout->addWidget(failure);

    stale = new QLabel(content);
    stale->setObjectName(QStringLiteral("infoStaleLabel"));
    stale->setWordWrap(true);
    stale->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(stale);

    session.create(tr("Latest run"), layout, content);
    session.title->setObjectName(QStringLiteral("infoSessionTitle"));
    session.body->setObjectName(QStringLiteral("infoSessionForm"));

    kernel.create(tr("Kernel"), layout, content);
    kernel.body->setObjectName(QStringLiteral("infoKernelForm"));
    metadataRow = new QWidget(content);
    auto *statusRow = new QHBoxLayout(metadataRow);
    statusRow->setContentsMargins(12, 0, 0, 0);
    metadataStatus = new QLabel(metadataRow);
    metadataStatus->setObjectName(QStringLiteral("infoMetadataStatus"));
    metadataStatus->setWordWrap(true);
    metadataStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    retry = new QPushButton(tr("Retry"), metadataRow);
    retry->setObjectName(QStringLiteral("infoRetryButton"));
    statusRow->addWidget(metadataStatus, 1);
    statusRow->addWidget(retry, 0, Qt::AlignTop);
    layout->addWidget(metadataRow);

    sources.create(tr("Inputs"), layout, content);
    sources.body->setObjectName(QStringLiteral("infoSourcesForm"));
    int labelWidth = 0;
    for (const QString &name :
         {tr("Current version"), tr("Time running"), tr("Time queued"), tr("Competitions"),
          tr("Docker image"), tr("Kaggle tags"), tr("Accelerator"), tr("Quota used")})
        labelWidth = std::max(labelWidth, content->fontMetrics().horizontalAdvance(name) + 8);
    session.labelWidth = kernel.labelWidth = sources.labelWidth = labelWidth;
    layout->addStretch(1);

    scroll->setWidget(content);
    outer->addWidget(scroll, 1);

    tailTimer.setSingleShot(true);
    tailTimer.setInterval(250);
    QObject::connect(&tailTimer, &QTimer::timeout, q, [this] { update(); });

    QObject::connect(retry, &QPushButton::clicked, q, [this] {
        if (const RunState *state = deck->monitor()->state(run)) {
            cache.remove(run);
            fetch(run, state->session ? state->session->id : 0);
            update();
        }
    });
    styleFailure();
}

QStringList RunInfoView::Private::lastStderrLines(RunId id)
{
    constexpr int kLines = 8;
    QStringList lines;
    LogTailModel *log = deck->logTail(id);
    if (log != quotedTail) {
        QObject::disconnect(tailConnection);
        quotedTail = log;
        if (log)
            tailConnection = QObject::connect(log, &QAbstractItemModel::rowsInserted, q, [this] {
                if (!tailTimer.isActive())
                    tailTimer.start();
            });
    }
    // The tail keeps indentation (the follower's own list is trimmed), which a traceback needs.
    if (log) {
        for (int row = log->rowCount() - 1; row >= 0 && lines.size() < kLines; --row) {
            const LogLine line = log->lineAt(row);
            if (line.stream != LogEvent::Stream::Stderr || line.text.trimmed().isEmpty())
                continue;
            QString text = line.text;
            // A traceback written after a progress bar shares its terminal line.
            if (const qsizetype at = text.indexOf(u"Traceback (most recent call last)"); at > 0)
                text = text.mid(at);
            lines.prepend(text);
        }
    }
    if (lines.isEmpty()) {
        const QStringList kept = deck->monitor()->logFollower()->lastStderrLines(id);
        lines = kept.mid(std::max<qsizetype>(0, kept.size() - kLines));
    }
    return lines;
}

void RunInfoView::Private::styleFailure()
{
    // An error frame that reads on both palettes: a tinted panel, not a modal dialog.
    const bool dark = theme::isDark(q->palette());
    const QString style =
        QStringLiteral("QFrame#infoFailureFrame { background: %1; border: 1px solid %2; "
                       "border-radius: 4px; } QFrame#infoFailureFrame QLabel { color: %3; "
                       "background: transparent; border: none; }")
            .arg(dark ? QStringLiteral("#3d2022") : QStringLiteral("#fde2e1"),
                 dark ? QStringLiteral("#8e3b36") : QStringLiteral("#f0a9a5"),
                 dark ? QStringLiteral("#ffc9c4") : QStringLiteral("#7a1c18"));
    failure->setStyleSheet(style);
    QPalette p = q->palette();
    p.setColor(QPalette::WindowText, theme::dangerColor(q->palette()));
    metadataStatus->setPalette(p);
    p.setColor(QPalette::WindowText, theme::warningColor(q->palette()));
    stale->setPalette(p);
    // Rich text keeps the link colour it was laid out with: lay it out again.
    ref->clear();
    session.rows.clear();
    kernel.rows.clear();
    sources.rows.clear();
}

Rows RunInfoView::Private::sessionRows(const RunState &state) const
{
    Rows rows;
    rows.append({tr("State"), present::stateText(state).toHtmlEscaped()});
    if (!state.session)
        return rows;
    const SessionRecord &s = *state.session;
    if (s.versionNumber > 0)
        rows.append({tr("Version"), QString::number(s.versionNumber)});
    rows.append({tr("Accelerator"),
                 present::acceleratorName(s.machineShape.isEmpty() ? state.run.machineShape
                                                                   : s.machineShape)
                     .toHtmlEscaped()});
    rows.append({s.pushed ? tr("Pushed") : tr("First seen"), when(s.firstSeen).toHtmlEscaped()});
    if (state.gpuSeconds > 0 || state.tpuSeconds > 0)
        rows.append({tr("Quota used"),
                     (state.tpuSeconds > 0 ? tr("%1 GPU, %2 TPU")
                                                 .arg(format::hours(state.gpuSeconds),
                                                      format::hours(state.tpuSeconds))
                                           : tr("%1 GPU").arg(format::hours(state.gpuSeconds)))
                         .toHtmlEscaped()});

    // Durations come from the transitions the monitor stored; a run first seen in a later state
    // has no record of the earlier ones.
    const QList<StatusEvent> events = deck->store()->statusEvents(s.id);
    QDateTime runningAt;
    for (const StatusEvent &e : events) {
        if (e.status == KernelStatus::Running && !runningAt.isValid())
            runningAt = e.at;
    }
    const KernelStatus firstSeen = events.isEmpty() ? s.status : events.first().status;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QDateTime end = s.endedAt.isValid() ? s.endedAt : now;
    if (isTerminal(firstSeen)) {
        // endedAt is only when KaggleDeck first saw the end; showing it as "Ended" would lie.
        rows.append({tr("Durations"), tr("not known: the run had ended before KaggleDeck "
                                         "watched it")
                                          .toHtmlEscaped()});
        return rows;
    }
    const QString notObserved = tr("not observed (the run was first seen later)");
    if (firstSeen == KernelStatus::Queued || firstSeen == KernelStatus::NewScript) {
        const QDateTime queueEnd = runningAt.isValid() ? runningAt : end;
        rows.append({tr("Time queued"),
                     format::duration(s.firstSeen.msecsTo(queueEnd) / 1000.0).toHtmlEscaped()});
    } else {
        rows.append({tr("Time queued"), notObserved.toHtmlEscaped()});
    }
    if (runningAt.isValid()) {
        const QString running = format::duration(runningAt.msecsTo(end) / 1000.0);
        rows.append({tr("Time running"),
                     (firstSeen == KernelStatus::Running ? tr("at least %1").arg(running) : running)
                         .toHtmlEscaped()});
    } else if (isTerminal(s.status)) {
        rows.append({tr("Time running"), notObserved.toHtmlEscaped()});
    }
    if (s.endedAt.isValid())
        rows.append({tr("Ended"), when(s.endedAt).toHtmlEscaped()});
    return rows;
}

Rows RunInfoView::Private::kernelRows(const RunState &state, const Metadata *meta) const
{
    Rows rows;
    if (!state.run.tags.isEmpty())
        rows.append({tr("Tags"), escapedList(state.run.tags)});
    if (!meta || meta->state != Metadata::State::Loaded)
        return rows;
    const KernelMetadata &m = meta->metadata;
    QString accelerator = present::acceleratorName(m.machineShape);
    if (m.machineShape.isEmpty() && m.enableGpu)
        accelerator = tr("GPU");
    else if (m.machineShape.isEmpty() && m.enableTpu)
        accelerator = tr("TPU");
    rows.append({tr("Accelerator"), accelerator.toHtmlEscaped()});
    QStringList kind;
    if (!m.language.isEmpty())
        kind.append(displayName(m.language));
    if (!m.kernelType.isEmpty())
        kind.append(displayName(m.kernelType));
    if (!kind.isEmpty())
        rows.append({tr("Language"), kind.join(QStringLiteral(" · ")).toHtmlEscaped()});
    rows.append({tr("Privacy"), m.isPrivate ? tr("Private") : tr("Public")});
    rows.append({tr("Internet"), m.enableInternet ? tr("On") : tr("Off")});
    if (m.currentVersionNumber > 0)
        rows.append({tr("Current version"), QString::number(m.currentVersionNumber)});
    if (m.lastRunTime.isValid())
        rows.append({tr("Last run"), when(m.lastRunTime).toHtmlEscaped()});
    if (!m.dockerImage.isEmpty())
        rows.append({tr("Docker image"), m.dockerImage.toHtmlEscaped()});
    if (!m.categoryIds.isEmpty())
        rows.append({tr("Kaggle tags"), escapedList(m.categoryIds)});
    return rows;
}

Rows RunInfoView::Private::sourceRows(const Metadata *meta) const
{
    Rows rows;
    if (!meta || meta->state != Metadata::State::Loaded)
        return rows;
    const KernelMetadata &m = meta->metadata;
    if (!m.datasetDataSources.isEmpty())
        rows.append(
            {tr("Datasets"), sourceLinks(m.datasetDataSources, QStringLiteral("datasets"))});
    if (!m.kernelDataSources.isEmpty())
        rows.append({tr("Notebooks"), sourceLinks(m.kernelDataSources, QStringLiteral("code"))});
    if (!m.competitionDataSources.isEmpty())
        rows.append({tr("Competitions"),
                     sourceLinks(m.competitionDataSources, QStringLiteral("competitions"))});
    if (!m.modelDataSources.isEmpty())
        rows.append({tr("Models"), sourceLinks(m.modelDataSources, QStringLiteral("models"))});
    if (rows.isEmpty())
        rows.append({tr("Sources"), tr("None: the kernel reads no dataset, notebook, competition "
                                       "or model.")});
    return rows;
}

void RunInfoView::Private::fetch(RunId id, SessionId sessionId)
{
    const RunState *state = deck->monitor()->state(id);
    if (!state)
        return;
    Metadata &meta = cache[id];
    meta = Metadata{};
    meta.session = sessionId;
    meta.call = deck->client()->getKernel(
        state->run.ref, q, [this, id, sessionId](Result<KernelPull> result) {
            auto it = cache.find(id);
            if (it == cache.end() || it->session != sessionId)
                return; // a newer request replaced this one
            it->call = 0;
            if (result.ok()) {
                it->state = Metadata::State::Loaded;
                it->metadata = result->metadata;
            } else {
                it->state = Metadata::State::Failed;
                it->errorKind = result.error().kind;
                const RunState *s = deck->monitor()->state(id);
                it->error = apiErrorText(result.error(), s ? s->run.ref.toString() : QString());
            }
            if (id == run)
                update();
        });
}

void RunInfoView::Private::update()
{
    const RunState *state = run ? deck->monitor()->state(run) : nullptr;
    placeholder->setVisible(!state);
    q->findChild<QScrollArea *>(QStringLiteral("infoScrollArea"))->setVisible(state != nullptr);
    if (!state)
        return;

    const SessionId sessionId = state->session ? state->session->id : 0;
    auto it = cache.find(run);
    if (it == cache.end() || (it->session != sessionId && it->state != Metadata::State::Loading))
        fetch(run, sessionId);
    const Metadata *meta = &cache[run];

    QString heading = state->run.title;
    if (meta->state == Metadata::State::Loaded && !meta->metadata.title.isEmpty())
        heading = meta->metadata.title;
    if (heading.isEmpty())
        heading = state->run.ref.slug;
    title->setText(heading);
    ref->setText(link(present::kernelUrl(state->run.ref), state->run.ref.toString()));
    ref->setToolTip(tr("Open the kernel on kaggle.com"));

    const bool failed = state->session && state->session->status == KernelStatus::Error;
    failure->setVisible(failed);
    if (failed) {
        const QString message = state->session->failureMessage;
        failureText->setText(message.isEmpty()
                                 ? tr("Kaggle gave no failure message. The log usually shows "
                                      "the cause; try First error in the Log tab.")
                                 : message);
        const QStringList tail = lastStderrLines(run);
        stderrTitle->setVisible(!tail.isEmpty());
        stderrText->setVisible(!tail.isEmpty());
        // <pre> keeps the indentation that makes a traceback readable; pre-wrap still wraps.
        stderrText->setText(
            QStringLiteral("<pre style=\"white-space: pre-wrap; margin: 0\">%1</pre>")
                .arg(tail.join(QLatin1Char('\n')).toHtmlEscaped()));
    }

    stale->setVisible(state->stale);
    if (state->stale)
        stale->setText(present::stateDetails(*state));

    session.setRows(sessionRows(*state));
    kernel.setRows(kernelRows(*state, meta));
    sources.setRows(sourceRows(meta));
    kernel.title->setVisible(true);
    switch (meta->state) {
    case Metadata::State::Loading:
        metadataStatus->setForegroundRole(QPalette::PlaceholderText);
        metadataStatus->setText(tr("Loading the kernel's details from Kaggle…"));
        break;
    case Metadata::State::Failed:
        metadataStatus->setForegroundRole(QPalette::WindowText);
        // The status note above already explains a missing or forbidden kernel.
        metadataStatus->setText(state->stale && state->errorKind == meta->errorKind
                                    ? tr("Kaggle gives no details of this kernel either.")
                                    : meta->error);
        break;
    case Metadata::State::Loaded:
        metadataStatus->clear();
        break;
    }
    metadataRow->setVisible(meta->state != Metadata::State::Loaded);
    retry->setVisible(meta->state == Metadata::State::Failed);
}

RunInfoView::RunInfoView(Deck *deck, QWidget *parent)
    : QWidget(parent), d(std::make_unique<Private>(this, deck))
{
    d->build();
    RunMonitor *monitor = deck->monitor();
    connect(monitor, &RunMonitor::runChanged, this, [this](RunId run) {
        if (run == d->run)
            d->update();
    });
    connect(monitor, &RunMonitor::runRemoved, this, [this](RunId run) {
        d->cache.remove(run);
        if (run == d->run)
            setRun(0);
    });
    d->update();
}

RunInfoView::~RunInfoView() = default;

void RunInfoView::setRun(RunId run)
{
    d->run = d->deck->monitor()->state(run) ? run : 0;
    d->update();
}

void RunInfoView::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange) {
        d->styleFailure();
        d->update();
    }
    QWidget::changeEvent(event);
}

} // namespace kd
