#include "quotapanel.h"

#include "burndownchart.h"
#include "chartstyle.h"
#include "deck.h"
#include "format.h"
#include "quotamodel.h"

#include <QComboBox>
#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <QPointer>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <array>
#include <cmath>

namespace kd {

namespace {

QColor usedColor()
{
    return ChartStyle::stateColor(ChartStyle::StateBucket::Running);
}

QColor lowColor()
{
    return ChartStyle::stateColor(ChartStyle::StateBucket::Cancelled);
}

QColor emptyTrackColor(const QPalette &palette)
{
    QColor c = palette.color(QPalette::Text);
    c.setAlphaF(ChartStyle::isDark(palette) ? 0.16f : 0.10f);
    return c;
}

/// used | reserved | remaining of the total as one bar, with a tick where the forecast lands.
class QuotaBar final : public QWidget
{
public:
    explicit QuotaBar(QWidget *parent) : QWidget(parent)
    {
        setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    }

    void setValues(bool known, double used, double reserved, double total, double projected,
                   bool low)
    {
        m_known = known;
        m_used = used;
        m_reserved = reserved;
        m_total = total;
        m_projected = projected;
        m_low = low;
        update();
    }

    QSize sizeHint() const override { return QSize(200, 16); }
    QSize minimumSizeHint() const override { return QSize(60, 16); }

protected:
    void paintEvent(QPaintEvent *) override
    {
        QPainter p(this);
        p.setRenderHint(QPainter::Antialiasing);
        const QRectF track = QRectF(rect()).adjusted(0.5, 2.5, -0.5, -2.5);
        const double radius = track.height() / 2;
        QPainterPath clip;
        clip.addRoundedRect(track, radius, radius);
        p.fillPath(clip, emptyTrackColor(palette()));
        if (!m_known || m_total <= 0)
            return;

        p.save();
        p.setClipPath(clip);
        const auto xAt = [&](double seconds) {
            return track.left() + track.width() * std::clamp(seconds / m_total, 0.0, 1.0);
        };
        const QColor used = m_low ? lowColor() : usedColor();
        const double usedEnd = xAt(m_used);
        p.fillRect(QRectF(track.left(), track.top(), usedEnd - track.left(), track.height()), used);
        const double reservedEnd = xAt(m_used + m_reserved);
        if (reservedEnd > usedEnd) {
            QColor light = used;
            light.setAlphaF(0.35f);
            const QRectF r(usedEnd, track.top(), reservedEnd - usedEnd, track.height());
            p.fillRect(r, light);
            p.fillRect(r, QBrush(used, Qt::BDiagPattern));
        }
        p.restore();

        // Where the forecast ends up by the refresh; past the end it turns red.
        if (m_projected > m_used + 1) {
            const bool over = m_projected > m_total;
            const double x = over ? track.right() - 1.5 : xAt(m_projected);
            QPen pen(over ? ChartStyle::warningColor(palette()) : palette().color(QPalette::Text),
                     2);
            p.setPen(pen);
            p.drawLine(QPointF(x, 0), QPointF(x, height()));
        }
    }

private:
    bool m_known = false;
    double m_used = 0;
    double m_reserved = 0;
    double m_total = 0;
    double m_projected = 0;
    bool m_low = false;
};

/// The widgets of one accelerator quota (GPU or TPU).
struct Block
{
    Accelerator accelerator = Accelerator::Gpu;
    int row = 0;
    QLabel *title = nullptr;
    QLabel *remaining = nullptr;
    QLabel *total = nullptr;
    QuotaBar *bar = nullptr;
    QLabel *used = nullptr;
    QLabel *reserved = nullptr;
    QLabel *forecast = nullptr;
};

/// The usage rows that used any accelerator time, largest first: a run at 0 h is noise here.
class UsageFilter final : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

    QVariant data(const QModelIndex &index, int role) const override
    {
        const bool hours = index.column() == QuotaUsageModel::GpuColumn ||
                           index.column() == QuotaUsageModel::TpuColumn;
        if (!hours || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
            return QSortFilterProxyModel::data(index, role);
        const double seconds =
            QSortFilterProxyModel::data(index, QuotaUsageModel::RawRole).toDouble();
        if (role == Qt::ToolTipRole)
            return format::hours(seconds);
        // "0 h" for a run that used four minutes reads like "nothing"; say minutes instead.
        if (seconds > 0 && seconds < 0.1 * 3600)
            return format::duration(seconds);
        return QSortFilterProxyModel::data(index, role);
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override
    {
        const QAbstractItemModel *m = sourceModel();
        for (int column : {int(QuotaUsageModel::GpuColumn), int(QuotaUsageModel::TpuColumn)}) {
            if (m->data(m->index(row, column, parent), QuotaUsageModel::RawRole).toDouble() >= 1)
                return true;
        }
        return false;
    }
};

QLabel *sectionLabel(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    return label;
}

} // namespace

struct QuotaPanel::Private
{
    QuotaPanel *q = nullptr;
    Deck *deck = nullptr;
    QPointer<QuotaModel> quota;
    QPointer<QuotaUsageModel> usage;
    QList<QMetaObject::Connection> connections;

    QLabel *banner = nullptr;
    QLabel *countdown = nullptr;
    QLabel *refreshAt = nullptr;
    QLabel *sourceNote = nullptr;
    std::array<Block, 2> blocks;
    QComboBox *burnAccelerator = nullptr;
    BurnDownChart *burnDown = nullptr;
    QTableView *usageTable = nullptr;
    QLabel *usageEmpty = nullptr;
    QWidget *contentWidget = nullptr;
    UsageFilter usageSorted;
    QTimer tick;
    QTimer refreshSoon; ///< one refresh per model update, however many cells it changed

    void build();
    QWidget *buildBlock(Block &b, QWidget *parent);
    void refreshQuota();
    void refreshBlock(Block &b);
    void refreshBanner();
    void refreshBurnDown();
    void refreshUsage();
    void refreshCountdown();
    void applyPalette();
    QVariant cell(int row, int column, int role) const
    {
        return quota ? quota->data(quota->index(row, column), role) : QVariant();
    }
    bool known(int row) const { return cell(row, 0, QuotaModel::KnownRole).toBool(); }
};

QWidget *QuotaPanel::Private::buildBlock(Block &b, QWidget *parent)
{
    const bool gpu = b.accelerator == Accelerator::Gpu;
    const QString prefix = gpu ? QStringLiteral("quotaGpu") : QStringLiteral("quotaTpu");
    auto *box = new QWidget(parent);
    auto *grid = new QGridLayout(box);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(6);
    grid->setVerticalSpacing(2);

    b.title = sectionLabel(gpu ? tr("GPU") : tr("TPU"), box);
    b.remaining = new QLabel(box);
    b.remaining->setObjectName(prefix + QStringLiteral("RemainingLabel"));
    QFont big = b.remaining->font();
    big.setBold(true);
    b.remaining->setFont(big);
    b.total = new QLabel(box);
    b.total->setObjectName(prefix + QStringLiteral("TotalLabel"));
    auto *head = new QHBoxLayout;
    head->setSpacing(4);
    head->addWidget(b.title);
    head->addStretch(1);
    head->addWidget(b.remaining);
    head->addWidget(b.total);
    grid->addLayout(head, 0, 0, 1, 2);

    b.bar = new QuotaBar(box);
    b.bar->setObjectName(prefix + QStringLiteral("Bar"));
    grid->addWidget(b.bar, 1, 0, 1, 2);

    b.used = new QLabel(box);
    b.used->setObjectName(prefix + QStringLiteral("UsedLabel"));
    b.reserved = new QLabel(box);
    b.reserved->setObjectName(prefix + QStringLiteral("ReservedLabel"));
    b.reserved->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    grid->addWidget(b.used, 2, 0);
    grid->addWidget(b.reserved, 2, 1);

    b.forecast = new QLabel(box);
    b.forecast->setObjectName(prefix + QStringLiteral("ForecastLabel"));
    b.forecast->setWordWrap(true);
    b.forecast->setTextInteractionFlags(Qt::TextSelectableByMouse);
    grid->addWidget(b.forecast, 3, 0, 1, 2);
    return box;
}

void QuotaPanel::Private::build()
{
    auto *outer = new QVBoxLayout(q);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->setSpacing(0);

    // The banner sits outside the scroll area: it must be seen without scrolling.
    banner = new QLabel(q);
    banner->setObjectName(QStringLiteral("quotaWarningBanner"));
    banner->setWordWrap(true);
    banner->setMargin(8);
    banner->setTextFormat(Qt::PlainText);
    QFont bannerFont = banner->font();
    bannerFont.setBold(true);
    banner->setFont(bannerFont);
    banner->setAutoFillBackground(true);
    banner->hide();
    outer->addWidget(banner);

    auto *scroll = new QScrollArea(q);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto *content = new QWidget(scroll);
    // QScrollArea can leave heightForWidth content at its old width when the vertical scroll
    // bar appears, clipping the right edge; pin the width to the viewport instead.
    scroll->viewport()->installEventFilter(q);
    contentWidget = content;
    auto *layout = new QVBoxLayout(content);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->setSpacing(8);

    countdown = new QLabel(content);
    countdown->setObjectName(QStringLiteral("quotaRefreshCountdown"));
    QFont countdownFont = countdown->font();
    countdownFont.setPointSizeF(countdownFont.pointSizeF() * 1.45);
    countdownFont.setBold(true);
    countdown->setFont(countdownFont);
    refreshAt = new QLabel(content);
    refreshAt->setObjectName(QStringLiteral("quotaRefreshTimeLabel"));
    refreshAt->setWordWrap(true);
    layout->addWidget(countdown);
    layout->addWidget(refreshAt);

    sourceNote = new QLabel(content);
    sourceNote->setObjectName(QStringLiteral("quotaSourceLabel"));
    sourceNote->setWordWrap(true);
    sourceNote->hide();
    layout->addWidget(sourceNote);

    blocks[0].accelerator = Accelerator::Gpu;
    blocks[0].row = QuotaModel::GpuRow;
    blocks[1].accelerator = Accelerator::Tpu;
    blocks[1].row = QuotaModel::TpuRow;
    for (Block &b : blocks)
        layout->addWidget(buildBlock(b, content));

    auto *burnHead = new QHBoxLayout;
    burnHead->addWidget(sectionLabel(tr("Burn-down this week"), content));
    burnHead->addStretch(1);
    burnAccelerator = new QComboBox(content);
    burnAccelerator->setObjectName(QStringLiteral("quotaBurnDownAccelerator"));
    burnAccelerator->addItem(tr("GPU"), int(Accelerator::Gpu));
    burnAccelerator->addItem(tr("TPU"), int(Accelerator::Tpu));
    burnAccelerator->setToolTip(tr("Which quota the burn-down shows"));
    burnHead->addWidget(burnAccelerator);
    layout->addLayout(burnHead);
    burnDown = new BurnDownChart(content);
    burnDown->setObjectName(QStringLiteral("quotaBurnDown"));
    burnDown->setToolTip(tr("Remaining hours: measured so far (solid) and forecast to the "
                            "refresh (dashed). Below the red line the quota is used up."));
    layout->addWidget(burnDown);

    layout->addWidget(sectionLabel(tr("Hours per run and chain this week"), content));
    usageTable = new QTableView(content);
    usageTable->setObjectName(QStringLiteral("quotaUsageTable"));
    usageTable->setModel(&usageSorted);
    usageSorted.setSortRole(QuotaUsageModel::RawRole);
    usageSorted.setDynamicSortFilter(true);
    usageTable->setSortingEnabled(true);
    usageTable->sortByColumn(QuotaUsageModel::GpuColumn, Qt::DescendingOrder);
    usageTable->verticalHeader()->hide();
    usageTable->setSelectionMode(QAbstractItemView::NoSelection);
    usageTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    usageTable->setWordWrap(false);
    usageTable->setTextElideMode(Qt::ElideMiddle);
    usageTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    usageTable->horizontalHeader()->setStretchLastSection(false);
    usageTable->verticalHeader()->setDefaultSectionSize(usageTable->fontMetrics().height() + 6);
    layout->addWidget(usageTable);
    usageEmpty = new QLabel(tr("No GPU or TPU hours recorded this week."), content);
    usageEmpty->setObjectName(QStringLiteral("quotaUsageEmptyLabel"));
    usageEmpty->setWordWrap(true);
    layout->addWidget(usageEmpty);
    layout->addStretch(1);

    scroll->setWidget(content);
    outer->addWidget(scroll, 1);

    QObject::connect(burnAccelerator, &QComboBox::currentIndexChanged, q,
                     [this] { refreshBurnDown(); });
    tick.setInterval(1000);
    QObject::connect(&tick, &QTimer::timeout, q, [this] { refreshCountdown(); });
    tick.start();
    refreshSoon.setSingleShot(true);
    refreshSoon.setInterval(0);
    QObject::connect(&refreshSoon, &QTimer::timeout, q, [this] { refreshQuota(); });
    applyPalette();
}

void QuotaPanel::Private::refreshQuota()
{
    for (Block &b : blocks)
        refreshBlock(b);
    refreshBanner();
    refreshBurnDown();
    refreshCountdown();

    bool fallback = false;
    for (const Block &b : blocks) {
        if (known(b.row) && cell(b.row, QuotaModel::SourceColumn, QuotaModel::RawRole).toInt() ==
                                int(QuotaForecast::Source::FallbackWindow))
            fallback = true;
    }
    sourceNote->setText(tr("No quota numbers from Kaggle yet: these are KaggleDeck's own "
                           "estimates from the runs it watched."));
    sourceNote->setVisible(fallback);
}

void QuotaPanel::Private::refreshBlock(Block &b)
{
    const bool gpu = b.accelerator == Accelerator::Gpu;
    if (!known(b.row)) {
        b.remaining->setText(tr("waiting for numbers…"));
        b.total->clear();
        b.used->clear();
        b.reserved->clear();
        b.forecast->clear();
        b.bar->setValues(false, 0, 0, 0, 0, false);
        b.bar->setToolTip(QString());
        return;
    }
    const auto seconds = [&](int column) {
        return cell(b.row, column, QuotaModel::RawRole).toDouble();
    };
    const auto text = [&](int column) { return cell(b.row, column, Qt::DisplayRole).toString(); };
    const double used = seconds(QuotaModel::UsedColumn);
    const double reserved = seconds(QuotaModel::ReservedColumn);
    const double remaining = seconds(QuotaModel::RemainingColumn);
    const double total = seconds(QuotaModel::TotalColumn);
    const double projected = seconds(QuotaModel::ProjectedColumn);
    const bool low = quota->isLow(b.accelerator);

    if (total <= 0) {
        b.remaining->setText(gpu ? tr("no GPU quota") : tr("no TPU quota on this account"));
        b.total->clear();
        b.used->clear();
        b.reserved->clear();
        b.forecast->clear();
        b.bar->setValues(false, 0, 0, 0, 0, false);
        return;
    }
    b.remaining->setText(tr("%1 left").arg(text(QuotaModel::RemainingColumn)));
    b.total->setText(tr("of %1").arg(text(QuotaModel::TotalColumn)));
    b.used->setText(tr("%1 used").arg(text(QuotaModel::UsedColumn)));
    b.reserved->setText(reserved > 0 ? tr("%1 reserved").arg(text(QuotaModel::ReservedColumn))
                                     : QString());
    b.forecast->setText(cell(b.row, 0, QuotaModel::SummaryRole).toString());
    // An untouched quota (no TPU work planned, say) needs no forecast sentence; it only
    // pushes the burn-down out of sight in a short dock.
    const bool fallback = cell(b.row, QuotaModel::SourceColumn, QuotaModel::RawRole).toInt() ==
                          int(QuotaForecast::Source::FallbackWindow);
    b.forecast->setVisible(projected > 0 || used > 0 || (fallback && gpu));
    b.bar->setValues(true, used, reserved, total, projected, low);

    // Exact numbers for whoever hovers: the labels round to a tenth of an hour.
    const QString tip =
        tr("Used: %1\nReserved for running sessions: %2\nLeft now: %3\n"
           "Weekly total: %4\nForecast by the refresh: %5 (%6)")
            .arg(format::hours(used), format::hours(reserved), format::hours(remaining),
                 format::hours(total), format::hours(projected),
                 projected > total ? tr("%1 short").arg(format::hours(projected - total))
                                   : tr("%1 to spare").arg(format::hours(total - projected)));
    for (QWidget *w : {static_cast<QWidget *>(b.bar), static_cast<QWidget *>(b.used),
                       static_cast<QWidget *>(b.reserved), static_cast<QWidget *>(b.remaining),
                       static_cast<QWidget *>(b.total)})
        w->setToolTip(tip);
    b.forecast->setToolTip(cell(b.row, 0, QuotaModel::SummaryRole).toString());

    const QPalette palette = q->palette();
    QPalette usedPalette = b.used->palette();
    usedPalette.setColor(QPalette::WindowText, low ? lowColor() : palette.color(QPalette::Text));
    b.remaining->setPalette(usedPalette);
    const bool covers = cell(b.row, QuotaModel::CoversColumn, QuotaModel::RawRole).toBool();
    QPalette forecastPalette = b.forecast->palette();
    forecastPalette.setColor(QPalette::WindowText, covers ? ChartStyle::mutedTextColor(palette)
                                                          : ChartStyle::warningTextColor(palette));
    b.forecast->setPalette(forecastPalette);
}

void QuotaPanel::Private::refreshBanner()
{
    QStringList lines;
    QStringList details;
    for (const Block &b : blocks) {
        if (!known(b.row) || cell(b.row, QuotaModel::CoversColumn, QuotaModel::RawRole).toBool())
            continue;
        const QString shortfall =
            cell(b.row, QuotaModel::ShortfallColumn, Qt::DisplayRole).toString();
        lines.append(
            b.accelerator == Accelerator::Gpu
                ? tr("GPU quota will run out: forecast exceeds what remains by %1").arg(shortfall)
                : tr("TPU quota will run out: forecast exceeds what remains by %1").arg(shortfall));
        details.append(cell(b.row, 0, QuotaModel::SummaryRole).toString());
    }
    if (lines.isEmpty()) {
        banner->hide();
        return;
    }
    banner->setText(QStringLiteral("⚠ ") + lines.join(u'\n'));
    banner->setToolTip(details.join(u'\n') + u'\n' +
                       tr("Stop or shorten a run, or move work past the refresh."));
    banner->show();
}

void QuotaPanel::Private::refreshBurnDown()
{
    const auto accelerator = Accelerator(burnAccelerator->currentData().toInt());
    const std::optional<QuotaForecast::Result> result =
        quota ? quota->forecast(accelerator) : std::nullopt;
    if (!result) {
        burnDown->clear();
        return;
    }
    burnDown->setData(quota->burnDown(accelerator), *result);
}

void QuotaPanel::Private::refreshUsage()
{
    const bool any = usage && usageSorted.rowCount() > 0;
    usageTable->setVisible(any);
    usageEmpty->setVisible(!any);
    if (!any)
        return;
    usageTable->horizontalHeader()->setSectionResizeMode(QuotaUsageModel::NameColumn,
                                                         QHeaderView::Stretch);
    bool tpu = false;
    for (int r = 0; r < usageSorted.rowCount(); ++r) {
        tpu = tpu || usageSorted.index(r, QuotaUsageModel::TpuColumn)
                             .data(QuotaUsageModel::RawRole)
                             .toDouble() > 0;
    }
    // Most accounts never touch the TPU; its column would be a row of zeros.
    usageTable->setColumnHidden(QuotaUsageModel::TpuColumn, !tpu);
    // As tall as its rows (up to eight, then it scrolls): no empty grid under two runs.
    const int rows = std::min(usageSorted.rowCount(), 8);
    const int height = usageTable->horizontalHeader()->sizeHint().height() +
                       rows * usageTable->verticalHeader()->defaultSectionSize() +
                       2 * usageTable->frameWidth() + 2;
    usageTable->setFixedHeight(height);
}

void QuotaPanel::Private::refreshCountdown()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const double left = quota ? quota->secondsToRefresh(now) : -1;
    if (left < 0) {
        countdown->setText(tr("Refresh time unknown"));
        refreshAt->setText(tr("Waiting for the quota from Kaggle…"));
        return;
    }
    const qint64 s = qint64(left);
    const qint64 days = s / 86400;
    const QString clock = format::countdown(double(s % 86400));
    countdown->setText(days > 0 ? tr("Refresh in %1 d %2").arg(days).arg(clock)
                                : tr("Refresh in %1").arg(clock));
    const QDateTime refresh = quota->refreshTime();
    refreshAt->setText(
        tr("The weekly quota refreshes %1 (your time).")
            .arg(QLocale().toString(refresh.toLocalTime(), QStringLiteral("ddd d MMM, HH:mm"))));
    refreshAt->setToolTip(refresh.toUTC().toString(Qt::ISODate));
}

void QuotaPanel::Private::applyPalette()
{
    const QPalette palette = q->palette();
    QPalette bannerPalette = banner->palette();
    bannerPalette.setColor(QPalette::Window, ChartStyle::warningColor(palette));
    bannerPalette.setColor(QPalette::WindowText, Qt::white);
    banner->setPalette(bannerPalette);

    QPalette muted = palette;
    muted.setColor(QPalette::WindowText, ChartStyle::mutedTextColor(palette));
    refreshAt->setPalette(muted);
    usageEmpty->setPalette(muted);
    for (Block &b : blocks) {
        b.used->setPalette(muted);
        b.reserved->setPalette(muted);
        b.total->setPalette(muted);
        b.forecast->setPalette(muted);
    }
    QPalette note = palette;
    note.setColor(QPalette::WindowText, ChartStyle::isDark(palette) ? QColor(0xf0, 0xc0, 0x60)
                                                                    : QColor(0x8a, 0x5a, 0x00));
    sourceNote->setPalette(note);
    if (quota)
        refreshQuota();
}

QuotaPanel::QuotaPanel(Deck *deck, QWidget *parent)
    : QWidget(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->deck = deck;
    d->build();
    setModels(deck->quotaModel(), deck->quotaUsageModel());
}

QuotaPanel::~QuotaPanel() = default;

void QuotaPanel::setModels(QuotaModel *quota, QuotaUsageModel *usage)
{
    for (const QMetaObject::Connection &c : std::as_const(d->connections))
        disconnect(c);
    d->connections.clear();
    d->quota = quota;
    d->usage = usage;
    d->usageSorted.setSourceModel(usage);
    if (quota) {
        const auto refresh = [this] { d->refreshSoon.start(); };
        d->connections << connect(quota, &QuotaModel::updated, this, refresh)
                       << connect(quota, &QAbstractItemModel::dataChanged, this, refresh)
                       << connect(quota, &QAbstractItemModel::modelReset, this, refresh);
    }
    if (usage) {
        const auto refresh = [this] { d->refreshUsage(); };
        // The proxy re-filters on dataChanged too (a run's first minute makes its row appear).
        d->connections << connect(&d->usageSorted, &QAbstractItemModel::modelReset, this, refresh)
                       << connect(&d->usageSorted, &QAbstractItemModel::dataChanged, this, refresh)
                       << connect(&d->usageSorted, &QAbstractItemModel::rowsInserted, this, refresh)
                       << connect(&d->usageSorted, &QAbstractItemModel::rowsRemoved, this, refresh);
    }
    d->refreshQuota();
    d->refreshUsage();
}

QuotaModel *QuotaPanel::quotaModel() const
{
    return d->quota;
}

void QuotaPanel::setBurnDownAccelerator(Accelerator accelerator)
{
    d->burnAccelerator->setCurrentIndex(d->burnAccelerator->findData(int(accelerator)));
}

bool QuotaPanel::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::Resize && d->contentWidget &&
        watched == d->contentWidget->parentWidget())
        d->contentWidget->setMaximumWidth(static_cast<QWidget *>(watched)->width());
    return QWidget::eventFilter(watched, event);
}

void QuotaPanel::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        d->applyPalette();
}

} // namespace kd
