#pragma once

#include "credentials.h"

#include <QWidget>

#include <functional>

class QFileSystemWatcher;
class QLabel;
class QTimer;

namespace kd {

/// Shown when no Kaggle credentials exist: explains where kaggle.json or an API token go,
/// notices them as soon as they appear, and offers the demo meanwhile.
class FirstRunWidget final : public QWidget
{
    Q_OBJECT
public:
    using Discover = std::function<CredentialDiscovery()>;

    /// `discover` defaults to kd::discoverCredentials() (tests pass their own).
    explicit FirstRunWidget(Discover discover = {}, QWidget *parent = nullptr);
    ~FirstRunWidget() override;

    /// Why the credentials found last were not usable (e.g. Kaggle rejected the token); those
    /// same credentials are not offered again until they change.
    void setRejected(const CredentialDiscovery &discovery, const QString &problem);
    /// Looks for credentials now (also every 2 s and when ~/.kaggle changes).
    void checkNow();

signals:
    void credentialsFound(const kd::CredentialDiscovery &discovery);
    void demoRequested();

private:
    static QByteArray fingerprint(const CredentialDiscovery &discovery);
    void watchDirectories();

    Discover m_discover;
    QTimer *m_timer;
    QFileSystemWatcher *m_watcher;
    QLabel *m_status;
    QLabel *m_problem;
    QByteArray m_rejected;
};

} // namespace kd
