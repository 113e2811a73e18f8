#include "logdelegate.h"

#include "logtailmodel.h"

#include <QAbstractItemView>
#include <QHelpEvent>
#include <QPainter>
#include <QTextLayout>
#include <QToolTip>

#include <array>
#include <cmath>

namespace kd {

namespace {

constexpr int kMarkerWidth = 3;
constexpr int kGutterPad = 6; // between the marker, the numbers and the text
constexpr int kTextRightPad = 4;
constexpr int kRowPad = 1; // above and below each line
constexpr qsizetype kTooltipChars = 2000;
constexpr double kMinContrast = 4.5; // WCAG AA for body text

double luminance(const QColor &c)
{
    auto channel = [](double v) {
        return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
}

double contrast(const QColor &a, const QColor &b)
{
    double la = luminance(a);
    double lb = luminance(b);
    if (la < lb)
        std::swap(la, lb);
    return (la + 0.05) / (lb + 0.05);
}

QColor mix(const QColor &a, const QColor &b, double t)
{
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * t),
                            float(a.greenF() + (b.greenF() - a.greenF()) * t),
                            float(a.blueF() + (b.blueF() - a.blueF()) * t));
}

// Themes differ (Fusion, Breeze, high contrast); a colour picked for white or for GitHub's dark
// grey is pulled towards the palette's text colour until it reads on this base.
QColor readableOn(const QColor &color, const QPalette &palette)
{
    const QColor base = palette.color(QPalette::Base);
    const QColor text = palette.color(QPalette::Text);
    QColor c = color;
    for (int step = 1; step <= 10 && contrast(c, base) < kMinContrast; ++step)
        c = mix(color, text, step / 10.0);
    return c;
}

// GitHub's terminal palettes, with the low-contrast entries (yellow, bright blue on white;
// black on dark) replaced by neighbours that keep their meaning and read.
constexpr std::array<QRgb, 16> kLight = {
    0x24292f, 0xcf222e, 0x116329, 0x7d4e00, 0x0550ae, 0x8250df, 0x1b7c83, 0x6e7781,
    0x57606a, 0xa40e26, 0x1a7f37, 0x633c01, 0x0969da, 0x6f42c1, 0x0e6b75, 0x6e7781,
};
constexpr std::array<QRgb, 16> kDark = {
    0x8b949e, 0xff7b72, 0x3fb950, 0xd29922, 0x58a6ff, 0xbc8cff, 0x39c5cf, 0xb1bac4,
    0x8b949e, 0xffa198, 0x56d364, 0xe3b341, 0x79c0ff, 0xd2a8ff, 0x56d4dd, 0xf0f6fc,
};

void fillBackground(QPainter *painter, const QRect &rect, const QPalette &palette, bool selected,
                    bool partial)
{
    if (selected) {
        // A translucent highlight keeps the terminal colours readable on selected lines.
        QColor highlight = palette.color(QPalette::Highlight);
        highlight.setAlphaF(LogDelegate::isDark(palette) ? 0.45f : 0.25f);
        painter->fillRect(rect, highlight);
    } else if (partial) {
        painter->fillRect(rect, palette.color(QPalette::AlternateBase));
    }
}

} // namespace

LogDelegate::LogDelegate(QAbstractItemView *view) : QStyledItemDelegate(view), m_view(view) {}

void LogDelegate::setSearchText(const QString &text)
{
    m_search = text;
}

void LogDelegate::setGutterDigits(int digits)
{
    m_gutterDigits = std::max(1, digits);
}

bool LogDelegate::isDark(const QPalette &palette)
{
    return palette.color(QPalette::Base).lightnessF() < 0.5;
}

QColor LogDelegate::terminalColor(StyleSpan::Color color, const QPalette &palette)
{
    if (color == StyleSpan::Default || color < 0 || color > StyleSpan::BrightWhite)
        return palette.color(QPalette::Text);
    const auto &table = isDark(palette) ? kDark : kLight;
    return readableOn(QColor::fromRgb(table[size_t(color)]), palette);
}

QColor LogDelegate::stderrColor(const QPalette &palette)
{
    return readableOn(QColor::fromRgb(isDark(palette) ? 0xf85149 : 0xcf222e), palette);
}

QColor LogDelegate::errorColor(const QPalette &palette)
{
    return readableOn(QColor::fromRgb(isDark(palette) ? 0xff7b72 : 0xa40e26), palette);
}

QColor LogDelegate::matchBackground(const QPalette &palette, bool current)
{
    if (isDark(palette))
        return QColor::fromRgb(current ? 0xb36b00 : 0x5c4a00);
    return QColor::fromRgb(current ? 0xffb74d : 0xfff0a0);
}

QColor LogDelegate::matchForeground(const QPalette &palette)
{
    return QColor::fromRgb(isDark(palette) ? 0xffffff : 0x1f2328);
}

LogDelegate::Geometry LogDelegate::geometry(const QFontMetrics &metrics) const
{
    Geometry g;
    const int digitWidth = metrics.horizontalAdvance(QLatin1Char('0'));
    g.gutter = kMarkerWidth + kGutterPad + digitWidth * m_gutterDigits + kGutterPad;
    g.textLeft = g.gutter + kGutterPad;
    g.lineHeight = metrics.lineSpacing();
    return g;
}

int LogDelegate::textWidth(const QStyleOptionViewItem &option, const Geometry &g) const
{
    const int rowWidth = m_view ? m_view->viewport()->width() : option.rect.width();
    return std::max(40, rowWidth - g.textLeft - kTextRightPad);
}

QSize LogDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const QFontMetrics metrics(option.font);
    const Geometry g = geometry(metrics);
    const int width = textWidth(option, g);
    // Rows span the viewport; the view shows no horizontal scroll bar (long lines wrap or clip).
    const int rowWidth = g.textLeft + width;
    if (!m_wrap)
        return {rowWidth, g.lineHeight + 2 * kRowPad};
    const QString text = index.data(Qt::DisplayRole).toString();
    // Most lines fit; only measure the ones that may not (the font is fixed-pitch).
    const int charWidth = std::max(1, metrics.averageCharWidth());
    if (text.size() * charWidth < width * 9 / 10)
        return {rowWidth, g.lineHeight + 2 * kRowPad};
    QTextLayout layout(text, option.font);
    QTextOption textOption;
    textOption.setWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    layout.setTextOption(textOption);
    layout.beginLayout();
    int lines = 0;
    for (QTextLine line = layout.createLine(); line.isValid(); line = layout.createLine()) {
        line.setLineWidth(width);
        ++lines;
    }
    layout.endLayout();
    return {rowWidth, std::max(1, lines) * g.lineHeight + 2 * kRowPad};
}

void LogDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option,
                        const QModelIndex &index) const
{
    const QPalette &palette = option.palette;
    const QRect r = option.rect;
    const bool selected = option.state & QStyle::State_Selected;
    const bool isStderr = index.data(LogTailModel::StreamRole).toInt() == 1;
    const bool partial = index.data(LogTailModel::IsPartialRole).toBool();
    const bool current = m_view && m_view->currentIndex() == index;
    QString text = index.data(Qt::DisplayRole).toString();

    QFont font = option.font;
    font.setItalic(partial);
    const QFontMetrics metrics(font);
    const Geometry g = geometry(metrics);

    painter->save();
    painter->setClipRect(r);
    fillBackground(painter, r, palette, selected, partial);

    if (isStderr)
        painter->fillRect(QRect(r.left(), r.top(), kMarkerWidth, r.height()), stderrColor(palette));

    const QRect gutterRect(r.left() + kMarkerWidth, r.top() + kRowPad,
                           g.gutter - kMarkerWidth - kGutterPad, g.lineHeight);
    QString gutterText;
    if (partial) {
        gutterText = tr("live");
    } else {
        const qint64 number = index.data(LogTailModel::LineNumberRole).toLongLong();
        if (number > 0)
            gutterText = QString::number(number);
    }
    painter->setFont(font);
    painter->setPen(isStderr ? stderrColor(palette) : palette.color(QPalette::PlaceholderText));
    painter->drawText(gutterRect, Qt::AlignRight | Qt::AlignVCenter, gutterText);

    const int width = textWidth(option, g);
    bool clipped = false;
    if (!m_wrap) {
        // Laying out a 256 KiB line to show its first hundred characters would stall painting.
        const int charWidth = std::max(1, metrics.averageCharWidth());
        const qsizetype fits = width / charWidth + 8;
        if (text.size() > fits) {
            text.truncate(fits);
            clipped = true;
        }
    }

    QList<QTextLayout::FormatRange> formats;
    const auto spans = index.data(LogTailModel::SpansRole).value<QList<StyleSpan>>();
    for (const StyleSpan &span : spans) {
        if (span.start >= text.size())
            break;
        QTextLayout::FormatRange range;
        range.start = span.start;
        range.length = int(std::min<qsizetype>(span.length, text.size() - span.start));
        if (span.color != StyleSpan::Default)
            range.format.setForeground(terminalColor(span.color, palette));
        if (span.bold)
            range.format.setFontWeight(QFont::Bold);
        formats.append(range);
    }

    QList<QTextLayout::FormatRange> matches;
    if (!m_search.isEmpty()) {
        QTextCharFormat match;
        match.setBackground(matchBackground(palette, current));
        match.setForeground(matchForeground(palette));
        for (qsizetype at = text.indexOf(m_search, 0, Qt::CaseInsensitive); at >= 0;
             at = text.indexOf(m_search, at + m_search.size(), Qt::CaseInsensitive))
            matches.append({int(at), int(m_search.size()), match});
    }

    QTextLayout layout(text, font);
    QTextOption textOption;
    textOption.setWrapMode(m_wrap ? QTextOption::WrapAtWordBoundaryOrAnywhere
                                  : QTextOption::NoWrap);
    layout.setTextOption(textOption);
    layout.setFormats(formats);
    layout.setCacheEnabled(false);
    layout.beginLayout();
    qreal y = 0;
    for (QTextLine line = layout.createLine(); line.isValid(); line = layout.createLine()) {
        line.setLineWidth(m_wrap ? width : 1e7);
        line.setPosition(QPointF(0, y));
        y += g.lineHeight;
        if (!m_wrap) {
            clipped = clipped || line.naturalTextWidth() > width;
            break;
        }
    }
    layout.endLayout();

    const bool error = isStderr && LogTailModel::isErrorLine(text);
    painter->setPen(error ? errorColor(palette) : palette.color(QPalette::Text));
    const QRect textRect(r.left() + g.textLeft, r.top(), width, r.height());
    painter->setClipRect(textRect);
    layout.draw(painter, QPointF(textRect.left(), r.top() + kRowPad), matches);

    if (clipped) {
        // Says "there is more" where the line is cut; the tooltip and Wrap show the rest.
        const QString more = QStringLiteral("…");
        const int moreWidth = metrics.horizontalAdvance(more) + 4;
        const QRect moreRect(textRect.right() - moreWidth + 1, r.top(), moreWidth, r.height());
        painter->fillRect(moreRect, palette.color(QPalette::Base));
        fillBackground(painter, moreRect, palette, selected, partial);
        painter->setPen(palette.color(QPalette::PlaceholderText));
        painter->drawText(moreRect, Qt::AlignCenter, more);
    }
    painter->restore();
}

bool LogDelegate::helpEvent(QHelpEvent *event, QAbstractItemView *view,
                            const QStyleOptionViewItem &option, const QModelIndex &index)
{
    if (!event || !view || event->type() != QEvent::ToolTip)
        return QStyledItemDelegate::helpEvent(event, view, option, index);
    const QString text = index.data(Qt::DisplayRole).toString();
    const QFontMetrics metrics(option.font);
    const Geometry g = geometry(metrics);
    const int width = textWidth(option, g);
    QString tip;
    const qsizetype probe = width / std::max(1, metrics.averageCharWidth()) + 8;
    if (!m_wrap && metrics.horizontalAdvance(text.left(probe)) > width)
        tip = text.size() > kTooltipChars ? text.left(kTooltipChars) + QStringLiteral("…") : text;
    const double time = index.data(LogTailModel::TimeRole).toDouble();
    const QString when = tr("%1 s after the session started").arg(time, 0, 'f', 1);
    tip = tip.isEmpty() ? when : tip + QStringLiteral("\n\n") + when;
    QToolTip::showText(event->globalPos(), tip, view);
    return true;
}

} // namespace kd
