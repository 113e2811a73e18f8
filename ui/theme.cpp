#include "theme.h"

#include <QApplication>
#include <QFile>
#include <QLayout>
#include <QPainter>
#include <QPixmap>
#include <QStyle>
#include <QStyleFactory>
#include <QSvgRenderer>
#include <QWidget>

namespace kd::theme {

namespace {

struct Original
{
    bool captured = false;
    QString styleName;
    QPalette palette;
};

Original &original()
{
    static Original o;
    return o;
}

Appearance &currentAppearance()
{
    static Appearance a = Appearance::System;
    return a;
}

void captureOriginal()
{
    Original &o = original();
    if (o.captured || !qApp)
        return;
    o.captured = true;
    o.styleName = QApplication::style()->name();
    o.palette = QApplication::palette();
}

} // namespace

QString toString(Appearance appearance)
{
    switch (appearance) {
    case Appearance::Light:
        return QStringLiteral("light");
    case Appearance::Dark:
        return QStringLiteral("dark");
    case Appearance::System:
        break;
    }
    return QStringLiteral("system");
}

Appearance fromString(QStringView text)
{
    if (text == u"light")
        return Appearance::Light;
    if (text == u"dark")
        return Appearance::Dark;
    return Appearance::System;
}

QPalette lightPalette()
{
    QPalette p;
    const QColor window(0xf3, 0xf4, 0xf6);
    const QColor text(0x1f, 0x23, 0x28);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, Qt::white);
    p.setColor(QPalette::AlternateBase, QColor(0xf6, 0xf8, 0xfa));
    p.setColor(QPalette::ToolTipBase, QColor(0xff, 0xff, 0xf0));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x8c, 0x95, 0x9f));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0xfa, 0xfb, 0xfc));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Light, Qt::white);
    p.setColor(QPalette::Midlight, QColor(0xe4, 0xe7, 0xeb));
    p.setColor(QPalette::Mid, QColor(0xc4, 0xc9, 0xd0));
    p.setColor(QPalette::Dark, QColor(0x9a, 0xa1, 0xaa));
    p.setColor(QPalette::Shadow, QColor(0x6e, 0x76, 0x81));
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xd8));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x0b, 0x5c, 0xc7));
    p.setColor(QPalette::LinkVisited, QColor(0x6f, 0x42, 0xc1));
    const QColor disabled(0x9a, 0xa1, 0xaa);
    p.setColor(QPalette::Disabled, QPalette::WindowText, disabled);
    p.setColor(QPalette::Disabled, QPalette::Text, disabled);
    p.setColor(QPalette::Disabled, QPalette::ButtonText, disabled);
    p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0xc4, 0xc9, 0xd0));
    return p;
}

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x31);
    const QColor text(0xdf, 0xe1, 0xe5);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, QColor(0x1e, 0x1f, 0x22));
    p.setColor(QPalette::AlternateBase, QColor(0x25, 0x27, 0x2a));
    p.setColor(QPalette::ToolTipBase, QColor(0x3c, 0x3f, 0x44));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x86, 0x8a, 0x91));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x36, 0x39, 0x3e));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
    p.setColor(QPalette::Light, QColor(0x4a, 0x4d, 0x53));
    p.setColor(QPalette::Midlight, QColor(0x3e, 0x41, 0x46));
    p.setColor(QPalette::Mid, QColor(0x2f, 0x31, 0x35));
    p.setColor(QPalette::Dark, QColor(0x1a, 0x1b, 0x1e));
    p.setColor(QPalette::Shadow, QColor(0x0f, 0x10, 0x12));
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x65, 0xca));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x6e, 0xa8, 0xfe));
    p.setColor(QPalette::LinkVisited, QColor(0xb3, 0x92, 0xf0));
    const QColor disabled(0x6f, 0x73, 0x7a);
    p.setColor(QPalette::Disabled, QPalette::WindowText, disabled);
    p.setColor(QPalette::Disabled, QPalette::Text, disabled);
    p.setColor(QPalette::Disabled, QPalette::ButtonText, disabled);
    p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0x3e, 0x41, 0x46));
    return p;
}

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

void apply(Appearance appearance)
{
    captureOriginal();
    // Nothing to undo yet: leave the platform's style untouched.
    if (appearance == Appearance::System && currentAppearance() == Appearance::System)
        return;
    currentAppearance() = appearance;
    const Original &o = original();
    switch (appearance) {
    case Appearance::System:
        if (QStyle *style = QStyleFactory::create(o.styleName))
            QApplication::setStyle(style);
        QApplication::setPalette(o.palette);
        break;
    case Appearance::Light:
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(lightPalette());
        break;
    case Appearance::Dark:
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(darkPalette());
        break;
    }
}

Appearance current()
{
    return currentAppearance();
}

QIcon icon(const QString &name, const QPalette &palette)
{
    const QString path = QStringLiteral(":/icons/%1.svg").arg(name);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QByteArray svg = file.readAll();
    if (!svg.contains("currentColor"))
        return QIcon(path);
    svg.replace("currentColor", palette.color(QPalette::WindowText).name().toLatin1());
    QSvgRenderer renderer(svg);
    QIcon result;
    // Rendered ahead at the sizes toolbars and menus use, at 1x and 2x, so HiDPI stays crisp.
    for (int size : {16, 20, 24, 32, 48, 64}) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter painter(&pixmap);
        renderer.render(&painter);
        painter.end();
        result.addPixmap(pixmap);
    }
    return result;
}

QColor warningColor(const QPalette &palette)
{
    return isDark(palette) ? QColor(0xff, 0xa6, 0x4d) : QColor(0xc2, 0x5e, 0x00);
}

QColor dangerColor(const QPalette &palette)
{
    return isDark(palette) ? QColor(0xff, 0x6b, 0x6b) : QColor(0xc6, 0x28, 0x28);
}

QColor mutedColor(const QPalette &palette)
{
    return palette.color(QPalette::Disabled, QPalette::Text);
}

QString labelColourSheet(const QColor &colour)
{
    return QStringLiteral("QLabel { color: %1; }").arg(colour.name());
}

void fitHeight(QWidget *dialog)
{
    QLayout *layout = dialog->layout();
    if (!layout)
        return;
    layout->activate();
    const int needed = layout->hasHeightForWidth() ? layout->totalHeightForWidth(dialog->width())
                                                   : layout->totalSizeHint().height();
    if (needed > dialog->height())
        dialog->resize(dialog->width(), needed);
}

} // namespace kd::theme
