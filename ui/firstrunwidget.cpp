#include "firstrunwidget.h"

#include <QCryptographicHash>
#include <QDesktopServices>
#include <QDir>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QTime>
#include <QTimer>
#include <QUrl>
#include <QVBoxLayout>

namespace kd {

namespace {
constexpr int kCheckMs = 2000;
} // namespace

FirstRunWidget::FirstRunWidget(Discover discover, QWidget *parent)
    : QWidget(parent),
      m_discover(discover ? std::move(discover) : Discover([] { return discoverCredentials(); })),
      m_timer(new QTimer(this)), m_watcher(new QFileSystemWatcher(this)),
      m_status(new QLabel(this)), m_problem(new QLabel(this))
{
    setObjectName(QStringLiteral("firstRunWidget"));
    setWindowTitle(tr("Welcome to KaggleDeck"));

    auto *icon = new QLabel(this);
    icon->setPixmap(QIcon(QStringLiteral(":/icons/kaggledeck.svg")).pixmap(64, 64));
    icon->setAlignment(Qt::AlignHCenter);

    auto *title = new QLabel(tr("Welcome to KaggleDeck"), this);
    QFont big = title->font();
    big.setPointSizeF(big.pointSizeF() * 1.6);
    big.setBold(true);
    title->setFont(big);
    title->setAlignment(Qt::AlignHCenter);

    auto *lead = new QLabel(
        tr("KaggleDeck watches your committed Kaggle notebook runs, their logs and your GPU "
           "quota. It needs your Kaggle API credentials, found the same way the kaggle command "
           "line tool finds them."),
        this);
    lead->setWordWrap(true);
    lead->setAlignment(Qt::AlignHCenter);

    const QString home = QDir::home().filePath(QStringLiteral(".kaggle"));
    const QString code = QStringLiteral("<code>%1</code>");
    const QStringList stepTexts = {
        tr("On <b>kaggle.com</b>, open <i>Settings → API</i> and create a token."),
        tr("Save the downloaded <b>kaggle.json</b> as %1 and make it private:<br>%2")
            .arg(code.arg(QDir(home).filePath(QStringLiteral("kaggle.json")).toHtmlEscaped()),
                 code.arg(QStringLiteral("chmod 600 ") +
                          QDir(home).filePath(QStringLiteral("kaggle.json")).toHtmlEscaped())),
        tr("Or save the API token in %1, or set %2 before starting KaggleDeck.")
            .arg(code.arg(QDir(home).filePath(QStringLiteral("access_token")).toHtmlEscaped()),
                 code.arg(QStringLiteral("KAGGLE_API_TOKEN"))),
    };
    // One label per step: rich-text lists measure their height badly when wrapped.
    auto *steps = new QWidget(this);
    steps->setObjectName(QStringLiteral("firstRunSteps"));
    auto *grid = new QGridLayout(steps);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(10);
    grid->setVerticalSpacing(10);
    grid->setColumnStretch(1, 1);
    for (int i = 0; i < stepTexts.size(); ++i) {
        auto *number = new QLabel(QStringLiteral("<b>%1.</b>").arg(i + 1), steps);
        number->setAlignment(Qt::AlignRight | Qt::AlignTop);
        auto *text = new QLabel(stepTexts.at(i), steps);
        text->setObjectName(QStringLiteral("firstRunStep%1").arg(i + 1));
        text->setWordWrap(true);
        text->setTextFormat(Qt::RichText);
        text->setTextInteractionFlags(Qt::TextSelectableByMouse);
        grid->addWidget(number, i, 0);
        grid->addWidget(text, i, 1);
    }
    auto *promise = new QLabel(tr("KaggleDeck continues on its own as soon as the credentials "
                                  "appear. The key stays on this computer, is sent only to "
                                  "Kaggle, and is never shown."),
                               this);
    promise->setWordWrap(true);
    promise->setAlignment(Qt::AlignHCenter);
    promise->setForegroundRole(QPalette::PlaceholderText);

    m_status->setObjectName(QStringLiteral("firstRunStatus"));
    m_status->setAlignment(Qt::AlignHCenter);
    m_status->setForegroundRole(QPalette::PlaceholderText);
    m_problem->setObjectName(QStringLiteral("firstRunProblem"));
    m_problem->setWordWrap(true);
    m_problem->setAlignment(Qt::AlignHCenter);
    m_problem->setStyleSheet(QStringLiteral("QLabel { color: #c62828; }"));
    m_problem->hide();

    auto *openSettings = new QPushButton(tr("Open Kaggle API settings"), this);
    openSettings->setObjectName(QStringLiteral("openKaggleSettingsButton"));
    connect(openSettings, &QPushButton::clicked, this, [] {
        QDesktopServices::openUrl(QUrl(QStringLiteral("https://www.kaggle.com/settings")));
    });
    auto *checkButton = new QPushButton(tr("Check again"), this);
    checkButton->setObjectName(QStringLiteral("checkAgainButton"));
    connect(checkButton, &QPushButton::clicked, this, &FirstRunWidget::checkNow);
    auto *demo = new QPushButton(tr("Try the demo"), this);
    demo->setObjectName(QStringLiteral("tryDemoButton"));
    demo->setDefault(true);
    demo->setToolTip(tr("Opens KaggleDeck on a built-in Kaggle simulator: no account needed, "
                        "nothing touches Kaggle."));
    connect(demo, &QPushButton::clicked, this, &FirstRunWidget::demoRequested);

    auto *buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(openSettings);
    buttons->addWidget(checkButton);
    buttons->addWidget(demo);
    buttons->addStretch();

    auto *card = new QWidget(this);
    // Wrapped labels would otherwise shrink the card to a narrow column.
    card->setFixedWidth(std::max(560, fontMetrics().averageCharWidth() * 84));
    auto *cardLayout = new QVBoxLayout(card);
    cardLayout->setSpacing(14);
    cardLayout->addWidget(icon);
    cardLayout->addWidget(title);
    cardLayout->addWidget(lead);
    cardLayout->addSpacing(6);
    cardLayout->addWidget(steps);
    cardLayout->addSpacing(6);
    cardLayout->addLayout(buttons);
    cardLayout->addWidget(promise);
    cardLayout->addWidget(m_status);
    cardLayout->addWidget(m_problem);

    // Centred with stretches, not an alignment flag: an aligned item gets its plain size
    // hint and the wrapped steps would be cut off.
    auto *row = new QHBoxLayout;
    row->addStretch(1);
    row->addWidget(card);
    row->addStretch(1);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(32, 32, 32, 32);
    outer->addStretch(1);
    outer->addLayout(row);
    outer->addStretch(2);

    m_timer->setInterval(kCheckMs);
    connect(m_timer, &QTimer::timeout, this, &FirstRunWidget::checkNow);
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, this, &FirstRunWidget::checkNow);
    connect(m_watcher, &QFileSystemWatcher::fileChanged, this, &FirstRunWidget::checkNow);
    m_timer->start();
    watchDirectories();
    m_status->setText(tr("Looking for credentials…"));
}

FirstRunWidget::~FirstRunWidget() = default;

QByteArray FirstRunWidget::fingerprint(const CredentialDiscovery &discovery)
{
    // A digest, so a rejected secret is recognised without keeping or comparing it in clear.
    return QCryptographicHash::hash(discovery.credentials.authorizationHeader(),
                                    QCryptographicHash::Sha256);
}

void FirstRunWidget::setRejected(const CredentialDiscovery &discovery, const QString &problem)
{
    m_rejected = fingerprint(discovery);
    m_problem->setText(problem);
    m_problem->setVisible(!problem.isEmpty());
    m_timer->start();
}

void FirstRunWidget::watchDirectories()
{
    // Watch what exists; the 2 s timer covers directories created later.
    const QString home = QDir::homePath();
    for (const QString &dir : {QDir(home).filePath(QStringLiteral(".kaggle")),
                               QDir(home).filePath(QStringLiteral(".config/kaggle"))})
        if (QFileInfo::exists(dir) && !m_watcher->directories().contains(dir))
            m_watcher->addPath(dir);
}

void FirstRunWidget::checkNow()
{
    watchDirectories();
    const CredentialDiscovery discovery = m_discover();
    const QString when = QLocale().toString(QTime::currentTime(), QLocale::ShortFormat);
    if (!discovery.credentials.isValid()) {
        m_status->setText(
            tr("No credentials yet; checking every few seconds (last check %1).").arg(when));
        return;
    }
    if (!m_rejected.isEmpty() && fingerprint(discovery) == m_rejected) {
        m_status->setText(tr("Waiting for different credentials (last check %1).").arg(when));
        return;
    }
    m_timer->stop();
    m_status->setText(tr("Found %1.").arg(discovery.credentials.describe()));
    emit credentialsFound(discovery);
}

} // namespace kd
