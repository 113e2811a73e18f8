#pragma once

// Light, dark or the platform's look, and toolbar icons drawn in the palette's colours.

#include <QColor>
#include <QIcon>
#include <QPalette>
#include <QString>

class QWidget;

namespace kd::theme {

enum class Appearance { System, Light, Dark };

QString toString(Appearance appearance); ///< "system", "light", "dark" (for QSettings)
Appearance fromString(QStringView text);

/// System restores the platform's style and palette; Light and Dark use Fusion with our
/// palettes so both look the same on every desktop.
void apply(Appearance appearance);
Appearance current();

QPalette lightPalette();
QPalette darkPalette();
bool isDark(const QPalette &palette);

/// An icon from resources/icons ("add-run" -> ":/icons/add-run.svg"). Monochrome icons draw
/// with `currentColor`, which is replaced by the palette's text colour so they stay legible
/// in both themes; re-fetch icons on QEvent::PaletteChange.
QIcon icon(const QString &name, const QPalette &palette);

/// Readable accent colours for text on the palette's base colour.
QColor warningColor(const QPalette &palette); ///< orange: under an hour left
QColor dangerColor(const QPalette &palette);  ///< red: under 30 minutes left, failures
QColor mutedColor(const QPalette &palette);   ///< grey: stale, secondary text
/// A style sheet that colours a QLabel's text.
QString labelColourSheet(const QColor &colour);

/// Grows a dialog to the height its word-wrapped labels need at its width: top-level windows
/// do not follow height-for-width by themselves.
void fitHeight(QWidget *dialog);

} // namespace kd::theme
