#pragma once

#include "terminallog.h"

#include <QStyledItemDelegate>

class QAbstractItemView;

namespace kd {

/// Paints one log line: a line-number gutter, terminal colours mapped onto the palette, a marker
/// for stderr, the live partial line and the search matches. Only paints; owns no state of the
/// log.
class LogDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
public:
    explicit LogDelegate(QAbstractItemView *view);

    /// Occurrences are highlighted case-insensitively; empty turns highlighting off.
    void setSearchText(const QString &text);
    QString searchText() const { return m_search; }
    void setWrap(bool wrap) { m_wrap = wrap; }
    bool wraps() const { return m_wrap; }
    /// Room for line numbers of this many digits.
    void setGutterDigits(int digits);
    int gutterDigits() const { return m_gutterDigits; }

    void paint(QPainter *painter, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    bool helpEvent(QHelpEvent *event, QAbstractItemView *view, const QStyleOptionViewItem &option,
                   const QModelIndex &index) override;

    /// True when text is drawn light on dark.
    static bool isDark(const QPalette &palette);
    /// A terminal colour that keeps its hue but reads on the palette's base colour (yellow on
    /// white and black on black would not).
    static QColor terminalColor(StyleSpan::Color color, const QPalette &palette);
    /// The stderr marker and line-number colour.
    static QColor stderrColor(const QPalette &palette);
    /// Text of lines that look like a failure (Traceback, ...Error).
    static QColor errorColor(const QPalette &palette);
    static QColor matchBackground(const QPalette &palette, bool current);
    static QColor matchForeground(const QPalette &palette);

private:
    struct Geometry
    {
        int gutter = 0;   ///< width of the line-number column, marker included
        int textLeft = 0; ///< x of the text relative to the row
        int lineHeight = 0;
    };
    Geometry geometry(const QFontMetrics &metrics) const;
    int textWidth(const QStyleOptionViewItem &option, const Geometry &g) const;

    QAbstractItemView *m_view;
    QString m_search;
    bool m_wrap = false;
    int m_gutterDigits = 5;
};

} // namespace kd
